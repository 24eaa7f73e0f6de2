/**
 * The shapes of the JSON API, once: Fastify validates requests and serialises
 * answers with them, and the OpenAPI document is generated from them. Named
 * shapes (`.meta({ id })`) become components of the document.
 */
import { z } from 'zod';
import { ERRORS, type ErrorCode } from '../core/errors.js';
import { CHOSEN_STATES } from '../presence/types.js';

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'Error', description: 'Every failure: a code of the error registry and a message for people.' });

export const UserView = z
  .object({ id: z.number().int(), username: z.string(), displayName: z.string() })
  .meta({ id: 'User' });

export const PresenceView = z
  .object({
    userId: z.number().int(),
    state: z.enum(['online', 'on-the-phone', 'away', 'busy', 'offline']),
    statusText: z.string().nullable(),
  })
  .meta({ id: 'Presence' });

export const ContactView = z
  .object({
    userId: z.number().int(),
    username: z.string(),
    displayName: z.string(),
    subscription: z.enum(['approved', 'requested']),
    presence: PresenceView,
  })
  .meta({ id: 'Contact' });

export const ContactRequestView = z
  .object({ fromUserId: z.number().int(), username: z.string(), displayName: z.string(), createdAt: z.number() })
  .meta({ id: 'ContactRequest' });

export const SessionView = z
  .object({
    id: z.string(),
    ownerId: z.number().int(),
    createdAt: z.number(),
    members: z.array(
      z.object({
        userId: z.number().int(),
        username: z.string().nullable(),
        displayName: z.string().nullable(),
        state: z.enum(['invited', 'joined', 'declined', 'left']),
      }),
    ),
  })
  .meta({ id: 'Session' });

export const MessageView = z
  .object({
    id: z.string().describe('Decimal; increasing in commit order across the community'),
    sessionId: z.string(),
    fromUserId: z.number().int(),
    kind: z.enum(['text', 'voice']),
    text: z.string().nullable(),
    audioId: z.string().nullable(),
    audioUrl: z.string().nullable(),
    createdAt: z.number(),
  })
  .meta({ id: 'Message' });

export const Messages = z.object({ messages: z.array(MessageView) });

/** A user named by username, account number or numeric id. */
export const UserRef = z.union([z.string().max(64), z.number().int()]);

export const LoginBody = z.object({ username: z.string(), password: z.string() });
export const PasswordBody = z.object({ currentPassword: z.string(), newPassword: z.string() });
export const LoginAnswer = z.object({ token: z.string(), sessionObjectId: z.string(), user: UserView });
export const MeAnswer = z.object({
  user: UserView,
  presence: PresenceView,
  sessionObjectId: z.string(),
  cursor: z.string(),
});
export const PresenceBody = z.object({
  state: z.enum(CHOSEN_STATES as [string, ...string[]]),
  statusText: z.string().nullable().optional(),
});
export const ContactsAnswer = z.object({ contacts: z.array(ContactView), requests: z.array(ContactRequestView) });
export const ContactBody = z.object({ username: UserRef.optional(), userId: UserRef.optional() });
export const SessionsBody = z.object({ invitees: z.array(UserRef).min(1).max(100) });
export const MessageBody = z.object({
  text: z.string(),
  clientMessageId: z
    .string()
    .regex(/^[\x21-\x7e]{1,64}$/)
    .optional()
    .describe(
      'Your own id for this post (1-64 visible ASCII characters), unique per session: posting again with it answers 200 with the message stored the first time, never a second copy',
    ),
});
export const ReadBody = z.object({ messageIds: z.array(z.string()).max(1000) });
export const SessionParams = z.object({ id: z.string().max(100) });
export const UserParams = z.object({ userId: z.string().max(64).describe('User id, username or account number') });

/** Error answers of a route, by status; each says which codes of the registry carry that status. */
export function errorAnswers(...statuses: number[]) {
  const out: Record<number, { description: string; content: { 'application/json': { schema: typeof ErrorBody } } }> =
    {};
  for (const status of statuses) {
    const codes = Object.entries(ERRORS)
      .filter(([, spec]) => spec.status === status)
      .map(([code]) => code);
    out[status] = {
      description: `Refused: ${codes.join(', ')}`,
      content: { 'application/json': { schema: ErrorBody } },
    };
  }
  return out;
}
