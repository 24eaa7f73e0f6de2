/**
 * The JSON API for rich clients, under /api/v1, as a Fastify plugin. Thin
 * handlers: the request's shape is checked by its schema (schemas.ts), the
 * presence service holds the rules, every failure is a coded error body. The
 * OpenAPI document at /api/v1/openapi.json is generated from these routes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../accounts/types.js';
import type { Services } from '../app.js';
import { AppError } from '../core/errors.js';
import type { ImSession } from '../presence/types.js';
import { sendRedirect, type WebAuth, type WebSessions } from './auth.js';
import { clientAddress, type WebLimits } from './limits.js';
import {
  ContactBody,
  ContactsAnswer,
  ContactView,
  errorAnswers,
  LoginAnswer,
  LoginBody,
  MeAnswer,
  MessageBody,
  Messages,
  MessageView,
  PasswordBody,
  PresenceBody,
  PresenceView,
  ReadBody,
  SessionParams,
  SessionsBody,
  SessionView,
  UserParams,
} from './schemas.js';
import { zodRoutes } from './server.js';
import { z } from 'zod';

declare module 'fastify' {
  interface FastifyRequest {
    /** The session object and user of an API request, set by the route's auth hook. */
    auth: WebAuth | undefined;
  }
}

/** A user named by username, account number or numeric id. */
export async function userRef(services: Pick<Services, 'accounts'>, ref: unknown): Promise<User> {
  const user =
    typeof ref === 'number'
      ? await services.accounts.userById(ref)
      : typeof ref === 'string' && ref.length <= 64
        ? /^\d+$/.test(ref)
          ? ((await services.accounts.userById(Number(ref))) ?? (await services.accounts.findUser(ref)))
          : await services.accounts.findUser(ref)
        : null;
  if (!user) throw new AppError('PRESENCE_USER_NOT_FOUND', `no user ${JSON.stringify(ref)?.slice(0, 40)}`);
  return user;
}

export async function sessionView(services: Pick<Services, 'accounts'>, s: ImSession) {
  return {
    id: s.id,
    ownerId: s.ownerId,
    createdAt: s.createdAt,
    members: await Promise.all(
      s.members.map(async (m) => {
        const u = await services.accounts.userById(m.userId);
        return { userId: m.userId, username: u?.username ?? null, displayName: u?.displayName ?? null, state: m.state };
      }),
    ),
  };
}

export async function login(
  services: Pick<Services, 'accounts' | 'presence'>,
  limits: WebLimits,
  attempt: { username: unknown; password: unknown; client: string; address: string },
): Promise<{ token: string; user: User; object: WebAuth['object'] }> {
  const { username, password, client, address } = attempt;
  if (typeof username !== 'string' || typeof password !== 'string')
    throw new AppError('WEB_BAD_REQUEST', 'give a username and a password');
  const user = await checkPassword(services, limits, { address, username, password }, 'wrong username or password');
  const { object, token } = await services.presence.objects.create(user.id, client);
  return { token, user, object };
}

/** One password try under the log-in limits: the user, or ACCOUNTS_LOCKED / ACCOUNTS_BAD_CREDENTIALS (`wrong`). */
async function checkPassword(
  services: Pick<Services, 'accounts'>,
  limits: WebLimits,
  attempt: { address: string; username: string; password: string },
  wrong: string,
): Promise<User> {
  await limits.checkLogin(attempt.address, attempt.username);
  const r = await services.accounts.validatePassword(attempt.username, attempt.password);
  if (r.ok) return r.user;
  if (r.reason === 'locked')
    throw new AppError('ACCOUNTS_LOCKED', 'too many failed tries; the account is locked for a while');
  throw new AppError('ACCOUNTS_BAD_CREDENTIALS', wrong);
}

/**
 * The auth hook of API routes: 401 without a valid token, 307 to the node that
 * holds the session object. A cookie rides along on requests other sites
 * make: it may read, never change.
 */
export function apiAuth(sessions: WebSessions) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const r = await sessions.resolve(request);
    if (r.kind === 'redirect') return sendRedirect(reply, 307, r.location);
    if (r.kind === 'none')
      throw new AppError('WEB_UNAUTHORIZED', 'log in first (a bearer token is missing or expired)');
    if (r.auth.via === 'cookie' && request.method !== 'GET' && request.method !== 'HEAD')
      throw new AppError('WEB_CSRF_FAILED', 'changes through the API need the bearer token, not the page cookie');
    request.auth = r.auth;
    return undefined;
  };
}

const authOf = (request: FastifyRequest): WebAuth => {
  if (!request.auth) throw new AppError('WEB_UNAUTHORIZED', 'log in first');
  return request.auth;
};

/**
 * The API's routes; `services` are the collaborators its handlers use.
 * `endObject` cuts the live connections of a session object that has ended
 * (log-out, another session's password change).
 */
export function apiPlugin(
  services: Pick<Services, 'accounts' | 'presence'>,
  limits: WebLimits,
  sessions: WebSessions,
  endObject: (objectId: string) => void,
) {
  return async (base: FastifyInstance): Promise<void> => {
    const app = zodRoutes(base);
    const { presence } = services;
    base.decorateRequest('auth', undefined);
    const authed = { onRequest: apiAuth(sessions) };
    // Field errors of presence routes are the presence server's own invalid input.
    const presenceInput = { invalidInput: 'PRESENCE_INVALID_INPUT' as const };
    const common = errorAnswers(400, 401, 403, 404, 429);
    const tags = ['presence'];

    app.get('/api/v1/openapi.json', async () => base.swagger());

    app.post(
      '/api/v1/login',
      {
        schema: {
          summary: 'Log in with username and password; returns a resume token',
          tags: ['session'],
          security: [],
          body: LoginBody,
          response: { 201: LoginAnswer, ...errorAnswers(400, 401, 423, 429) },
        },
      },
      async (request, reply) => {
        const { username, password } = request.body;
        const { token, user, object } = await login(services, limits, {
          username,
          password,
          client: 'api',
          address: clientAddress(request),
        });
        request.userName = user.username;
        return reply.code(201).send({
          token,
          sessionObjectId: object.id,
          user: { id: user.id, username: user.username, displayName: user.displayName },
        });
      },
    );

    app.post(
      '/api/v1/logout',
      {
        ...authed,
        schema: { summary: 'End the session object', tags: ['session'], response: { 204: z.null(), ...common } },
      },
      async (request, reply) => {
        const { object } = authOf(request);
        await presence.objects.end(object.id);
        endObject(object.id);
        return reply.code(204).send(null);
      },
    );

    // A new password ends every other session of the user (a thief's included); the one that changed it goes on.
    app.post(
      '/api/v1/password',
      {
        ...authed,
        schema: {
          summary: "Change your password; ends the user's other session objects, keeps this one",
          tags: ['session'],
          body: PasswordBody,
          response: {
            200: z.object({ changed: z.literal(true), endedSessions: z.number().int() }),
            ...errorAnswers(400, 401, 403, 423, 429),
          },
        },
      },
      async (request) => {
        const auth = authOf(request);
        const { currentPassword, newPassword } = request.body;
        const address = clientAddress(request);
        const attempt = { address, username: auth.user.username, password: currentPassword };
        await checkPassword(services, limits, attempt, 'the current password is wrong');
        await services.accounts.setPassword(auth.user.id, newPassword);
        const ended = await presence.objects.endAllOf(auth.user.id, auth.object.id);
        for (const id of ended) endObject(id);
        return { changed: true as const, endedSessions: ended.length };
      },
    );

    app.get(
      '/api/v1/me',
      {
        ...authed,
        schema: { summary: 'Who you are and your presence', tags: ['session'], response: { 200: MeAnswer, ...common } },
      },
      async (request) => {
        const { user, object } = authOf(request);
        return {
          user: { id: user.id, username: user.username, displayName: user.displayName },
          presence: await presence.presenceOf(user.id),
          sessionObjectId: object.id,
          // The cursor moves with every delivery: read it now, not from the token's resolution.
          cursor: (await presence.objects.get(object.id))?.cursor ?? object.cursor,
        };
      },
    );

    app.put(
      '/api/v1/me/language',
      {
        ...authed,
        schema: {
          summary: 'Set the language you are spoken and written to in (BCP 47: en, es, fr-CA, de); null: the default',
          tags: ['session'],
          body: z.object({ language: z.string().max(35).nullable() }),
          response: {
            200: z.object({ language: z.string().nullable() }),
            ...errorAnswers(400, 401, 403, 429),
          },
        },
      },
      async (request) => {
        const user = await services.accounts.setLanguage(authOf(request).user.id, request.body.language);
        return { language: user.language ?? null };
      },
    );

    app.put(
      '/api/v1/presence',
      {
        ...authed,
        config: presenceInput,
        schema: {
          summary: 'Choose your presence',
          tags,
          body: PresenceBody,
          response: { 200: PresenceView, ...common },
        },
      },
      async (request) =>
        await presence.setPresence(authOf(request).user.id, request.body.state as never, request.body.statusText),
    );

    app.get(
      '/api/v1/contacts',
      {
        ...authed,
        schema: {
          summary: 'Your buddy list with presence, and the requests waiting for you',
          tags,
          response: { 200: ContactsAnswer, ...common },
        },
      },
      async (request) => {
        const { user } = authOf(request);
        return { contacts: await presence.contacts(user.id), requests: await presence.contactRequests(user.id) };
      },
    );

    app.post(
      '/api/v1/contacts',
      {
        ...authed,
        config: presenceInput,
        schema: {
          summary: 'Ask to add a contact (they approve)',
          tags,
          body: ContactBody,
          response: {
            200: z.object({ userId: z.number().int(), subscription: z.enum(['requested', 'approved']) }),
            ...common,
          },
        },
      },
      async (request) => {
        const target = await userRef(services, request.body.username ?? request.body.userId);
        return { userId: target.id, subscription: await presence.requestContact(authOf(request).user.id, target.id) };
      },
    );

    app.post(
      '/api/v1/contacts/:userId/approve',
      {
        ...authed,
        schema: {
          summary: 'Approve a contact request',
          tags,
          params: UserParams,
          response: { 200: z.object({ contacts: z.array(ContactView) }), ...common },
        },
      },
      async (request) => {
        const { user } = authOf(request);
        await presence.approveContact(user.id, (await userRef(services, request.params.userId)).id);
        return { contacts: await presence.contacts(user.id) };
      },
    );

    app.post(
      '/api/v1/contacts/:userId/decline',
      {
        ...authed,
        schema: {
          summary: 'Decline a contact request',
          tags,
          params: UserParams,
          response: { 204: z.null(), ...common },
        },
      },
      async (request, reply) => {
        await presence.declineContact(authOf(request).user.id, (await userRef(services, request.params.userId)).id);
        return reply.code(204).send(null);
      },
    );

    app.delete(
      '/api/v1/contacts/:userId',
      {
        ...authed,
        schema: { summary: 'Remove a contact', tags, params: UserParams, response: { 204: z.null(), ...common } },
      },
      async (request, reply) => {
        await presence.removeContact(authOf(request).user.id, (await userRef(services, request.params.userId)).id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/v1/sessions',
      {
        ...authed,
        schema: {
          summary: 'Your IM sessions (invited or joined)',
          tags,
          response: { 200: z.object({ sessions: z.array(SessionView) }), ...common },
        },
      },
      async (request) => ({
        sessions: await Promise.all(
          (await presence.sessionsOf(authOf(request).user.id)).map((s) => sessionView(services, s)),
        ),
      }),
    );

    app.post(
      '/api/v1/sessions',
      {
        ...authed,
        config: presenceInput,
        schema: {
          summary: 'Start a session by inviting contacts',
          tags,
          body: SessionsBody,
          response: { 201: SessionView, ...common },
        },
      },
      async (request, reply) => {
        const ids: number[] = [];
        for (const r of request.body.invitees) ids.push((await userRef(services, r)).id);
        return reply
          .code(201)
          .send(await sessionView(services, await presence.createSession(authOf(request).user.id, ids)));
      },
    );

    app.get(
      '/api/v1/sessions/:id',
      {
        ...authed,
        schema: { summary: 'A session', tags, params: SessionParams, response: { 200: SessionView, ...common } },
      },
      async (request) =>
        await sessionView(services, await presence.session(request.params.id, authOf(request).user.id)),
    );

    app.post(
      '/api/v1/sessions/:id/invite',
      {
        ...authed,
        config: presenceInput,
        schema: {
          summary: 'Invite another contact',
          tags,
          params: SessionParams,
          body: ContactBody,
          response: { 200: SessionView, ...common },
        },
      },
      async (request) => {
        const invitee = await userRef(services, request.body.username ?? request.body.userId);
        return await sessionView(
          services,
          await presence.invite(request.params.id, authOf(request).user.id, invitee.id),
        );
      },
    );

    const actions = { accept: 'Accept an invitation', decline: 'Decline an invitation', leave: 'Leave the session' };
    for (const action of ['accept', 'decline', 'leave'] as const)
      app.post(
        `/api/v1/sessions/:id/${action}`,
        {
          ...authed,
          schema: {
            summary: actions[action],
            tags,
            params: SessionParams,
            response: { 200: SessionView, ...errorAnswers(400, 401, 403, 404, 409, 429) },
          },
        },
        async (request) =>
          await sessionView(services, await presence[action](request.params.id, authOf(request).user.id)),
      );

    app.get(
      '/api/v1/sessions/:id/messages',
      {
        ...authed,
        config: presenceInput,
        schema: {
          summary: 'Messages, oldest first: after a message id, or the latest',
          tags,
          params: SessionParams,
          querystring: z.looseObject({
            after: z.string().max(20).optional(),
            limit: z
              .string()
              .regex(/^\d{1,4}$/)
              .optional()
              .describe('At most this many (the server caps it)'),
          }),
          response: { 200: Messages, ...common },
        },
      },
      async (request) => {
        const { after, limit } = request.query;
        const messages = await presence.history(authOf(request).user.id, request.params.id, {
          ...(after ? { afterId: after } : {}),
          ...(limit ? { limit: Number(limit) } : {}),
        });
        return { messages };
      },
    );

    app.post(
      '/api/v1/sessions/:id/messages',
      {
        ...authed,
        config: presenceInput,
        schema: {
          summary: 'Send a text message; answered after it is stored durably',
          description:
            '201 with the message stored. With a clientMessageId that you already used in this session for the same text, 200 with the message stored the first time (same id and createdAt; stored and delivered once); for another text, 409 PRESENCE_CLIENT_ID_CONFLICT.',
          tags,
          params: SessionParams,
          body: MessageBody,
          response: {
            200: MessageView.describe('A repeat of an earlier post (same clientMessageId): the message stored then'),
            201: MessageView,
            ...errorAnswers(400, 401, 403, 404, 409, 413, 429, 503),
          },
        },
      },
      async (request, reply) => {
        await limits.checkPost(authOf(request).user.id);
        const { message, isNew } = await presence.post({
          sessionId: request.params.id,
          fromUserId: authOf(request).user.id,
          text: request.body.text,
          ...(request.body.clientMessageId === undefined ? {} : { clientMessageId: request.body.clientMessageId }),
        });
        return reply.code(isNew ? 201 : 200).send(message);
      },
    );

    app.get(
      '/api/v1/unread',
      {
        ...authed,
        schema: {
          summary: 'Messages you have not read',
          tags,
          querystring: z.looseObject({ session: z.string().max(100).optional() }),
          response: { 200: Messages, ...common },
        },
      },
      async (request) => ({ messages: await presence.unread(authOf(request).user.id, request.query.session) }),
    );

    app.post(
      '/api/v1/read',
      {
        ...authed,
        config: presenceInput,
        schema: {
          summary: 'Mark messages read',
          tags,
          body: ReadBody,
          response: { 200: z.object({ read: z.array(z.string()) }), ...common },
        },
      },
      async (request) => ({ read: await presence.markRead(authOf(request).user.id, request.body.messageIds) }),
    );
  };
}
