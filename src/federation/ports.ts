/**
 * What federation needs from storage, in its own words (SQLite: src/store/sqlite/federation.ts;
 * PostgreSQL: src/store/postgres/federation.ts; both in test/store/contract.ts).
 */

export type PeerState = 'active' | 'suspended';

export interface Peer {
  /** The peer community's domain: the part after '@' in its users' addresses. */
  name: string;
  baseUrl: string;
  /** Ed25519 public key, SPKI DER in base64. */
  publicKey: string;
  state: PeerState;
  addedAt: number;
  lastOkAt: number | null;
  lastError: string | null;
}

export interface OutboxEntry {
  seq: number;
  peer: string;
  eventId: string;
  body: string;
  attempts: number;
  nextAt: number;
}

export interface RemoteMember {
  address: string;
  userId: number;
  peer: string;
}

/** Federation's storage port. Every method may be asynchronous (SQLite answers at once; PostgreSQL does not). */
export interface FederationStore {
  /** Adds a peer, or replaces its URL and key (state back to active). */
  putPeer(peer: { name: string; baseUrl: string; publicKey: string }, now: number): Promise<Peer>;
  peer(name: string): Promise<Peer | null>;
  peers(): Promise<Peer[]>;
  /** Removes a peer and its queue; false when there was none. */
  removePeer(name: string): Promise<boolean>;
  peerResult(name: string, at: number, error: string | null): Promise<void>;

  /** Appends events to a peer's queue (in this order); an event id already queued for it is skipped. */
  enqueue(peer: string, events: { eventId: string; body: string }[], now: number): Promise<void>;
  /** The oldest entries of a peer's queue, due or not, in order. */
  head(peer: string, limit: number): Promise<OutboxEntry[]>;
  /** Removes delivered entries. */
  dequeue(peer: string, seqs: number[]): Promise<void>;
  /** Counts a failed try of the head entries and sets when to try again. */
  retryLater(peer: string, seqs: number[], nextAt: number): Promise<void>;
  queueLength(peer: string): Promise<number>;
  /** Peers with anything queued. */
  peersWithQueue(): Promise<string[]>;

  /** Records an event as applied; false when it already was (the receiver applies each event once). */
  markReceived(peer: string, eventId: string, now: number): Promise<boolean>;
  wasReceived(peer: string, eventId: string): Promise<boolean>;
  /** Records a nonce until it expires; false when it was seen (a replay). Expired nonces are forgotten. */
  claimNonce(peer: string, nonce: string, now: number, expiresAt: number): Promise<boolean>;

  remoteMember(address: string): Promise<RemoteMember | null>;
  remoteMemberByUser(userId: number): Promise<RemoteMember | null>;
  remoteMembers(): Promise<RemoteMember[]>;
  addRemoteMember(member: RemoteMember): Promise<void>;

  /** Remembers the address a peer invited one of our users by in a session (user@ or +number@). */
  setAlias(sessionId: string, userId: number, address: string): Promise<void>;
  aliasOf(sessionId: string, userId: number): Promise<string | null>;
}
