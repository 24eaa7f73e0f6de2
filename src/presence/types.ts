/** The words of the presence server, shared by its services, the web and the IVR. */

/** Presence as others see it. `on-the-phone` comes from a phone link or a desk phone in a call. */
export type PresenceState = 'online' | 'on-the-phone' | 'away' | 'busy' | 'offline';
/** What a user may choose for their non-phone links ('offline' = invisible). */
export type ChosenState = 'online' | 'away' | 'busy' | 'offline';
export const CHOSEN_STATES: readonly ChosenState[] = ['online', 'away', 'busy', 'offline'];

export type LinkKind = 'web' | 'websocket' | 'phone' | 'xmpp';
export const LINK_KINDS: readonly LinkKind[] = ['web', 'websocket', 'phone', 'xmpp'];

export type DeliveryState = 'pending' | 'delivered' | 'read' | 'notified';

export interface Presence {
  userId: number;
  state: PresenceState;
  statusText: string | null;
}

export interface Contact {
  userId: number;
  username: string;
  displayName: string;
  /** approved: you see their presence; requested: you asked and wait for them. */
  subscription: 'approved' | 'requested';
  presence: Presence;
}

export interface ContactRequest {
  fromUserId: number;
  username: string;
  displayName: string;
  createdAt: number;
}

export interface VoiceBody {
  audioId: string;
  url: string;
  text?: string;
}

export interface StoredMessage {
  /** Decimal string; increasing in commit order across the whole community. */
  id: string;
  sessionId: string;
  fromUserId: number;
  kind: 'text' | 'voice';
  /** The text, or the voice message's transcript when known. */
  text: string | null;
  audioId: string | null;
  audioUrl: string | null;
  createdAt: number;
}

/**
 * A post. `clientMessageId` makes it idempotent: 1-64 visible ASCII
 * characters (0x21-0x7E) that the sender chooses, unique per sender and
 * session; posting again with the same id returns the message stored the
 * first time (never a second copy, never a second delivery), and with the
 * same id but another body is refused (PRESENCE_CLIENT_ID_CONFLICT).
 */
export type PostMessageInput =
  | { sessionId: string; fromUserId: number; text: string; clientMessageId?: string }
  | { sessionId: string; fromUserId: number; voice: VoiceBody; clientMessageId?: string };

/** A post's outcome: the message, and whether this post stored it (false: a repeat of an earlier post). */
export interface Posted {
  message: StoredMessage;
  isNew: boolean;
}

export type MemberState = 'invited' | 'joined' | 'declined' | 'left';

export interface SessionMember {
  userId: number;
  state: MemberState;
}

export interface ImSession {
  id: string;
  ownerId: number;
  createdAt: number;
  members: SessionMember[];
}

/** What a link's `deliver` receives. */
export type LinkEvent =
  | { type: 'message'; message: StoredMessage }
  | { type: 'presence'; presence: Presence }
  | { type: 'invite'; session: ImSession; inviterId: number }
  | { type: 'member'; sessionId: string; userId: number; state: MemberState }
  | { type: 'contact-request'; fromUserId: number }
  | { type: 'read'; userId: number; messageIds: string[] };

export interface LinkOptions {
  kind: LinkKind;
  deliver: (event: LinkEvent) => void;
  /** A link that belongs to a session object replays from its cursor on open. */
  sessionObjectId?: string;
  /**
   * Replay waiting messages to this link as it opens (default true). The IVR
   * reads waiting messages itself and may turn this off.
   */
  replay?: boolean;
}

export interface Link {
  readonly id: string;
  readonly userId: number;
  readonly kind: LinkKind;
  readonly isOpen: boolean;
  /** Closes the link; resolves once the user's presence reflects it. */
  close(): Promise<void>;
}

export interface UnreachableEvent {
  recipientId: number;
  message: StoredMessage;
}

export interface LinkOpenedEvent {
  userId: number;
  linkId: string;
  kind: LinkKind;
}

export interface ReadEvent {
  userId: number;
  messageIds: string[];
}

export interface MessageStoredEvent {
  message: StoredMessage;
  /** Every recipient, and whether it has a phone link now (the audio server pre-renders for those). */
  recipients: { userId: number; hasPhoneLink: boolean; hasLink: boolean }[];
}

export interface InvitedEvent {
  session: ImSession;
  inviterId: number;
  inviteeId: number;
  isReachable: boolean;
}

export interface SessionObject {
  id: string;
  userId: number;
  client: string;
  csrf: string;
  nodeId: string;
  cursor: string;
  createdAt: number;
  lastSeenAt: number;
}

/** A member's state changed (after it was stored). */
export interface MemberChangedEvent {
  session: ImSession;
  userId: number;
  state: SessionMember['state'];
}
