/** The storage the XMPP gateway needs, in its own words (implemented in src/store/<backend>/gateway.ts). */

/** Subscription of an outside contact and a local user, in XMPP terms. */
export type RosterState = 'asked' | 'asking' | 'approved';

/** A message waiting to go to XMPP (or already sent). */
export interface OutboundStanza {
  /** Queue order. */
  seq: number;
  /** The stanza id: one message to one contact; enqueueing it again changes nothing. */
  stanzaId: string;
  from: string;
  to: string;
  body: string;
  /** XEP-0066 out-of-band link (a voice message's audio). */
  oobUrl?: string;
}

export interface GatewayStatus {
  nodeId: string;
  domain: string;
  state: string;
  since: number;
  connects: number;
  lastError: string | null;
  updatedAt: number;
}

export interface GatewayStore {
  /** The shadow account of an outside JID (bare, lower case), or null. */
  contactUser(jid: string): Promise<number | null>;
  /** The outside JID a shadow account stands for, or null (a local user). */
  contactJid(userId: number): Promise<string | null>;
  addContact(jid: string, userId: number, now: number): Promise<void>;
  /** Every outside contact. */
  contacts(): Promise<{ jid: string; userId: number }[]>;

  rosterState(contactUserId: number, localUserId: number): Promise<RosterState | null>;
  setRoster(contactUserId: number, localUserId: number, state: RosterState, now: number): Promise<void>;
  removeRoster(contactUserId: number, localUserId: number): Promise<void>;
  /** Approved pairs, for presence after a (re)connect. */
  approvedRoster(): Promise<{ contactUserId: number; localUserId: number }[]>;

  sessionOf(contactUserId: number, localUserId: number): Promise<string | null>;
  setSession(contactUserId: number, localUserId: number, sessionId: string, now: number): Promise<void>;

  /** Queues a stanza; false when its id was queued before (sent or not). */
  enqueue(stanza: Omit<OutboundStanza, 'seq'>, now: number): Promise<boolean>;
  /** The oldest unsent stanzas, in queue order. */
  unsent(limit: number): Promise<OutboundStanza[]>;
  markSent(seq: number, now: number): Promise<void>;
  counts(): Promise<{ queued: number; sent: number; contacts: number; approved: number }>;

  setStatus(status: GatewayStatus): Promise<void>;
  statuses(): Promise<GatewayStatus[]>;
}
