/**
 * What the IVR needs from the audio file server and the presence server.
 * The shapes follow those services' own APIs (AudioService.speechUrl /
 * storeRecording; the presence server's links, message cache, contacts and
 * sessions) so that the real services fit behind at most a thin adapter
 * (src/ivr/adapters.ts). Every method may return a value or a promise.
 */

type MaybePromise<T> = T | Promise<T>;

/** Audio: speech for prompts and messages, storage for recorded replies. */
export interface IvrAudioPort {
  /** A URL Asterisk can play (`sound:` + it) of the text spoken by the engine: an 8 kHz WAV. */
  speechUrl(text: string, options?: { voice?: string }): MaybePromise<string>;
  /** Stores a recorded reply (the WAV fetched from the PBX); returns its id, length and playable URL. */
  storeRecording(input: {
    data: Buffer;
    userId: number;
    sessionId?: string;
    messageId?: string;
  }): MaybePromise<{ id: string; durationMs: number; wavUrl: string }>;
  /** Renders speech ahead of need, a few at a time, never failing (optional: speechUrl otherwise). */
  prerender?(text: string, options?: { voice?: string }): MaybePromise<void>;
  /** Whether the speech engine would say this text (the sanitiser takes it); optional: assumed yes. */
  speakable?(text: string): boolean;
  /** Links a stored recording to the message that carries it (optional). */
  linkRecording?(id: string, link: { messageId?: string; sessionId?: string }): MaybePromise<void>;
}

/** A message as the phone hears it. */
export interface IvrMessage {
  id: string;
  sessionId: string;
  fromUserId: number;
  /** What the speech engine says for the sender. */
  fromName: string;
  /** Milliseconds since the epoch. */
  sentAt: number;
  /** The text (for a voice message: its transcript, when known). */
  text?: string;
  /** A voice message: its audio, playable by the PBX. */
  voice?: { audioId: string; url: string; text?: string };
}

export type PresenceState = 'online' | 'away' | 'busy' | 'on-the-phone' | 'offline';

export interface IvrContact {
  userId: number;
  spokenName: string;
  state: PresenceState;
}

/** An open connection of a user (here: the phone call); closing it ends its part in presence. */
export interface IvrLink {
  close(): MaybePromise<void>;
}

export type OutgoingMessage =
  | { sessionId: string; fromUserId: number; text: string }
  | { sessionId: string; fromUserId: number; voice: { audioId: string; url: string; text?: string } };

/** Presence: links, the message cache, contacts and IM sessions. */
export interface IvrPresencePort {
  /** Opens a phone link (presence "on the phone"); `deliver` gets every new message for the user while it is open. */
  openLink(userId: number, options: { kind: 'phone'; deliver: (message: IvrMessage) => void }): MaybePromise<IvrLink>;
  /** Unread messages, oldest first; of one session when given. */
  unread(userId: number, sessionId?: string): MaybePromise<IvrMessage[]>;
  markRead(userId: number, messageIds: string[]): MaybePromise<void>;
  /** Removes messages from the user's view ("delete"); read is implied. */
  dismiss(userId: number, messageIds: string[]): MaybePromise<void>;
  postMessage(message: OutgoingMessage): MaybePromise<{ id: string }>;
  /** The buddy list in its speed-dial order (1 = first), with presence. */
  contacts(userId: number): MaybePromise<IvrContact[]>;
  setPresence(userId: number, state: 'online' | 'away' | 'busy' | 'offline'): MaybePromise<void>;
  /** Opens (or finds) a chat between the user and a contact; returns its session id. */
  startChat(userId: number, contactUserId: number): MaybePromise<{ sessionId: string }>;
  /** Makes the user an active member of a session it was invited to (reverse log-on: "1 accepts"). */
  joinSession(userId: number, sessionId: string): MaybePromise<void>;
  /** Tells the session that the user declined (reverse log-on: "2 declines"). */
  declineSession(userId: number, sessionId: string): MaybePromise<void>;
  /** The spoken names of the other members of a session. */
  sessionPeers(userId: number, sessionId: string): MaybePromise<string[]>;
}

/** Where a caller was when the call ended, so that calling again can offer to resume. */
export interface IvrResumePort {
  remember(userId: number, position: { sessionId: string }, now: number): MaybePromise<void>;
  /** The position left within the lifetime, or null. */
  recall(userId: number, now: number): MaybePromise<{ sessionId: string } | null>;
  forget(userId: number): MaybePromise<void>;
}

/**
 * The storage behind IvrResumePort: one position per user, replaced on every
 * write, good until `expiresAt`. `src/store/<backend>/` implements it.
 */
export interface IvrResumeStore {
  remember(userId: number, position: { sessionId: string }, now: number, expiresAt: number): Promise<void>;
  /** The position if it has not expired at `now` (an expired one is forgotten), else null. */
  recall(userId: number, now: number): Promise<{ sessionId: string } | null>;
  forget(userId: number): Promise<void>;
}
