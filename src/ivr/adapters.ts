/**
 * Thin adapters from the real presence and audio services to the IVR's ports.
 * They are typed structurally (the few members the IVR uses), so the IVR does
 * not depend on those services' internals. Decisions made here:
 * - "Delete" on the phone marks the message read for that user (the message
 *   cache keeps every message; other members still see it).
 * - Replying to a session one was only invited to accepts the invitation
 *   first: answering is accepting.
 * - A chat started by speed dial reuses the newest open two-person session
 *   with that contact, else creates one (the contact is invited).
 * - The phone link opens without replay: the IVR reads waiting messages
 *   itself, so they are not pushed to the link a second time.
 */
import type { AccountService } from '../accounts/account-service.js';
import type { SessionMember, StoredMessage } from '../presence/types.js';
import type { IvrAudioPort, IvrContact, IvrLink, IvrMessage, IvrPresencePort, PresenceState } from './ports.js';

type StoredMessageLike = StoredMessage;
type MemberLike = Pick<SessionMember, 'userId'> & { state: string };

export interface PresenceLike {
  openLink(
    userId: number,
    options: {
      kind: 'phone';
      deliver: (event: { type: string; message?: StoredMessageLike }) => void;
      replay?: boolean;
    },
  ): Promise<{ close(): Promise<void> }>;
  unread(userId: number, sessionId?: string): Promise<StoredMessageLike[]>;
  markRead(userId: number, messageIds: string[]): Promise<unknown>;
  postMessage(
    input:
      | { sessionId: string; fromUserId: number; text: string }
      | { sessionId: string; fromUserId: number; voice: { audioId: string; url: string; text?: string } },
  ): Promise<{ id: string }>;
  contacts(userId: number): Promise<{ userId: number; subscription: string; presence: { state: PresenceState } }[]>;
  setPresence(userId: number, state: 'online' | 'away' | 'busy' | 'offline'): Promise<unknown>;
  sessionsOf(userId: number): Promise<{ id: string; members: MemberLike[] }[]>;
  createSession(ownerId: number, inviteeIds: number[]): Promise<{ id: string }>;
  accept(sessionId: string, userId: number): Promise<unknown>;
  decline(sessionId: string, userId: number): Promise<unknown>;
  members(sessionId: string): Promise<MemberLike[]>;
}

const isActive = (m: MemberLike) => m.state === 'joined' || m.state === 'invited';

export function presenceForIvr(presence: PresenceLike, accounts: AccountService): IvrPresencePort {
  const nameOf = async (userId: number) => (await accounts.userById(userId))?.spokenName ?? 'someone';
  /** A list's senders are read once each, however many of its messages they wrote. */
  const namesOf = (messages: StoredMessageLike[]) => {
    const names = new Map<number, Promise<string>>();
    for (const m of messages) if (!names.has(m.fromUserId)) names.set(m.fromUserId, nameOf(m.fromUserId));
    return names;
  };
  const toIvr = async (m: StoredMessageLike, names?: Map<number, Promise<string>>): Promise<IvrMessage> => ({
    id: m.id,
    sessionId: m.sessionId,
    fromUserId: m.fromUserId,
    fromName: await (names?.get(m.fromUserId) ?? nameOf(m.fromUserId)),
    sentAt: m.createdAt,
    ...(m.text !== null ? { text: m.text } : {}),
    ...(m.kind === 'voice' && m.audioUrl
      ? { voice: { audioId: m.audioId ?? '', url: m.audioUrl, ...(m.text !== null ? { text: m.text } : {}) } }
      : {}),
  });
  const acceptIfInvited = async (userId: number, sessionId: string) => {
    const me = (await presence.members(sessionId)).find((m) => m.userId === userId);
    if (me?.state === 'invited') await presence.accept(sessionId, userId);
  };
  return {
    async openLink(userId, options): Promise<IvrLink> {
      // Messages arrive in order; each waits for the one before it to be put in the IVR's words.
      let previous: Promise<void> = Promise.resolve();
      return presence.openLink(userId, {
        kind: 'phone',
        replay: false,
        deliver: (event) => {
          const message = event.message;
          if (event.type !== 'message' || !message) return;
          previous = previous.then(async () => options.deliver(await toIvr(message))).catch(() => {});
        },
      });
    },
    unread: async (userId, sessionId) => {
      const list = await presence.unread(userId, sessionId);
      const names = namesOf(list);
      return Promise.all(list.map((m) => toIvr(m, names)));
    },
    markRead: async (userId, ids) => {
      await presence.markRead(userId, ids);
    },
    dismiss: async (userId, ids) => {
      await presence.markRead(userId, ids);
    },
    postMessage: async (message) => {
      await acceptIfInvited(message.fromUserId, message.sessionId);
      const stored = await presence.postMessage(message);
      return { id: stored.id };
    },
    contacts: async (userId): Promise<IvrContact[]> => {
      const approved = (await presence.contacts(userId)).filter((c) => c.subscription === 'approved');
      return Promise.all(
        approved.map(async (c) => ({ userId: c.userId, spokenName: await nameOf(c.userId), state: c.presence.state })),
      );
    },
    setPresence: async (userId, state) => {
      await presence.setPresence(userId, state);
    },
    startChat: async (userId, contactUserId) => {
      const existing = (await presence.sessionsOf(userId)).find((s) => {
        const active = s.members.filter(isActive);
        return active.length === 2 && active.some((m) => m.userId === contactUserId);
      });
      if (existing) {
        await acceptIfInvited(userId, existing.id);
        return { sessionId: existing.id };
      }
      return { sessionId: (await presence.createSession(userId, [contactUserId])).id };
    },
    joinSession: (userId, sessionId) => acceptIfInvited(userId, sessionId),
    declineSession: async (userId, sessionId) => {
      const me = (await presence.members(sessionId)).find((m) => m.userId === userId);
      if (me?.state === 'invited') await presence.decline(sessionId, userId);
    },
    sessionPeers: async (userId, sessionId) =>
      Promise.all(
        (await presence.members(sessionId))
          .filter((m) => m.userId !== userId && isActive(m))
          .map((m) => nameOf(m.userId)),
      ),
  };
}

/** The members of the audio server the IVR uses. */
export interface AudioLike {
  speechUrl(text: string, options?: { voice?: string; language?: string }): string | Promise<string>;
  storeRecording(input: {
    data: Buffer;
    userId: number;
    sessionId?: string;
    messageId?: string;
  }): Promise<{ id: string; durationMs: number; wavUrl: string }> | { id: string; durationMs: number; wavUrl: string };
  linkRecording?(id: string, link: { messageId?: string; sessionId?: string }): unknown;
  prerender?(text: string, options?: { voice?: string; language?: string }): Promise<void>;
  speechId?(text: string): string;
}

export function audioForIvr(audio: AudioLike): IvrAudioPort {
  return {
    speechUrl: (text, options) => audio.speechUrl(text, options),
    storeRecording: (input) => audio.storeRecording(input),
    speakable: (text) => {
      try {
        audio.speechId?.(text);
        return true;
      } catch {
        return false;
      }
    },
    linkRecording: async (id, link) => {
      await audio.linkRecording?.(id, link);
    },
    prerender: async (text, options) => {
      if (audio.prerender) await audio.prerender(text, options);
      else await audio.speechUrl(text, options);
    },
  };
}
