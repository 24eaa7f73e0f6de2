/**
 * The storage the presence server needs, in its own words.
 *
 * - PresenceStore: chosen presence, links and desk-phone calls per node,
 *   subscriptions (contacts), IM sessions and their members, the message
 *   cache's reads and delivery states, session objects, node leases and the
 *   secrets every node shares.
 * - MessageCommitter: the message cache's durable write path (a group
 *   commit: a batch of messages with their delivery rows in one
 *   transaction). The cache's queue and acknowledgement rules stay in
 *   message-cache.ts; an adapter only commits what it is given.
 * - NodeFeed: how the nodes of one community tell each other what their
 *   links must see (messages another node committed, presence, invitations,
 *   membership changes). SQLite (one file, possibly several processes) polls;
 *   PostgreSQL pushes with LISTEN/NOTIFY.
 *
 * Every method is async; methods that change several rows do so atomically.
 * Message ids are numbers here (the store's sequence, increasing in commit
 * order across the community); the service shows them as decimal strings.
 * `src/store/<backend>/` implements these ports; nothing here knows SQL.
 */
import type {
  ChosenState,
  DeliveryState,
  ImSession,
  LinkEvent,
  LinkKind,
  MemberState,
  SessionObject,
  StoredMessage,
} from './types.js';

export type SubscriptionState = 'requested' | 'approved';

/** A session's members as read at one membership version. */
export interface Membership {
  version: number;
  members: { userId: number; state: MemberState }[];
}

/** The presence server's storage port. */
export interface PresenceStore {
  // ---- chosen presence and links ---------------------------------------------------

  chosen(userId: number): Promise<{ state: ChosenState; statusText: string | null } | null>;
  setChosen(userId: number, state: ChosenState, statusText: string | null, now: number): Promise<void>;
  /** The kinds of the user's open links on every node (one entry per link). */
  linkKinds(userId: number): Promise<LinkKind[]>;
  /** linkKinds of several users in one read: one row per open link of any of them, on every node. */
  linkKindsOf(userIds: number[]): Promise<{ userId: number; kind: LinkKind }[]>;
  insertLink(id: string, userId: number, kind: LinkKind, nodeId: string, now: number): Promise<void>;
  deleteLink(id: string): Promise<void>;
  /** Drops the links a node recorded (a restarted node's own, a dead node's); returns the users affected. */
  deleteLinksOfNode(nodeId: string): Promise<number[]>;
  /** Whether the user has a link on a node other than `nodeId`. */
  hasLinksElsewhere(userId: number, nodeId: string): Promise<boolean>;

  // ---- desk-phone calls (a presence input beside the links) -------------------------------

  /**
   * Sets, atomically, which users an Asterisk device is in a call for, as
   * heard by `nodeId`; returns the users whose rows changed (added or dropped).
   */
  setDeviceCalls(device: string, nodeId: string, userIds: number[], now: number): Promise<number[]>;
  /** The devices a user is in a call on (heard by any node), by name. */
  deviceCallsOf(userId: number): Promise<string[]>;
  /** Drops a node's device-call rows; returns the users affected. */
  deleteDeviceCallsOfNode(nodeId: string): Promise<number[]>;

  // ---- subscriptions (contacts) ---------------------------------------------------------

  /** The state of `subscriberId`'s subscription to `targetId`'s presence, or null. */
  subscription(subscriberId: number, targetId: number): Promise<SubscriptionState | null>;
  upsertSubscription(subscriberId: number, targetId: number, state: SubscriptionState, now: number): Promise<void>;
  /** Makes two users approved contacts of each other (both subscriptions), atomically. */
  approveMutual(userId: number, otherId: number, now: number): Promise<void>;
  deleteSubscription(subscriberId: number, targetId: number): Promise<boolean>;
  /** Removes both subscriptions between two users, atomically. */
  deleteMutual(userId: number, otherId: number): Promise<void>;
  /** Whom the user subscribes to (their buddy list), oldest first. */
  subscriptionsOf(userId: number): Promise<{ targetId: number; state: SubscriptionState }[]>;
  /** Who sees the user's presence (approved subscribers). */
  subscribersOf(userId: number): Promise<number[]>;
  /** Requests waiting for the user's approval, oldest first. */
  requestsTo(userId: number): Promise<{ fromUserId: number; createdAt: number }[]>;

  // ---- IM sessions and members ------------------------------------------------------------

  /** Creates a session with its owner joined and the invitees invited, atomically. */
  insertSession(id: string, ownerId: number, inviteeIds: number[], now: number): Promise<void>;
  /** A session with its members in the order they were added, or null. */
  session(id: string): Promise<ImSession | null>;
  memberState(sessionId: string, userId: number): Promise<MemberState | null>;
  /**
   * Sets a member's state (adding the member when new). Leaving or declining
   * fixes what they may read: the session's newest message id at that moment;
   * being invited or joining again lifts it. `invitedBy` null keeps the one recorded.
   */
  setMember(
    sessionId: string,
    userId: number,
    state: MemberState,
    invitedBy: number | null,
    now: number,
  ): Promise<void>;
  /** The last message id a member may read, or null when they may read all (invited or joined). */
  readUntil(sessionId: string, userId: number): Promise<number | null>;
  /**
   * Every member of a session and their state, with the session's membership
   * version, in one read (the hot path of a post); null when there is no such
   * session. The version changes with every change to the session's members.
   */
  membership(sessionId: string): Promise<Membership | null>;
  /** Who receives a message: invited and joined members except the sender. */
  recipients(sessionId: string, senderId: number): Promise<number[]>;
  /** The ids of the sessions where the user is in one of `states`, newest session first. */
  sessionIdsOf(userId: number, states: MemberState[]): Promise<string[]>;

  // ---- messages and deliveries (the message cache's reads) ---------------------------------------

  message(id: number): Promise<StoredMessage | null>;
  /** A session's messages with `afterId` < id <= `untilId`, oldest first, at most `limit`. */
  history(sessionId: string, afterId: number, limit: number, untilId?: number): Promise<StoredMessage[]>;
  /** The last `limit` messages of a session up to `untilId`, oldest first. */
  recent(sessionId: string, limit: number, untilId?: number): Promise<StoredMessage[]>;
  /**
   * Deliveries still pending (no link took the message) of messages stored
   * since `since`, oldest message first: each is the intent of an alert,
   * written in the same commit as its message.
   */
  pendingDeliveries(since: number, limit: number): Promise<{ recipientId: number; message: StoredMessage }[]>;
  /** Messages to a recipient whose delivery is in one of `states`, oldest first (default limit 1000). */
  messagesFor(
    userId: number,
    states: DeliveryState[],
    opts?: { sessionId?: string; afterId?: number; limit?: number },
  ): Promise<StoredMessage[]>;
  /** Each recipient's delivery state of a message, by recipient id. */
  deliveryStates(messageId: number): Promise<{ recipientId: number; state: DeliveryState }[]>;
  /**
   * Moves deliveries forward only (pending < notified < delivered < read),
   * atomically; returns the message ids whose state changed.
   */
  advanceDeliveries(userId: number, messageIds: number[], to: DeliveryState, now: number): Promise<number[]>;
  /** The newest message id of the community (0 when none). */
  maxMessageId(): Promise<number>;

  // ---- session objects ------------------------------------------------------------------------

  /** Stores an object under the hash of its resume token (never the token). */
  insertObject(o: SessionObject, tokenHash: string): Promise<void>;
  objectByTokenHash(hash: string): Promise<SessionObject | null>;
  objectById(id: string): Promise<SessionObject | null>;
  /** The node that holds each of these objects, for those that still exist (a missing id has ended). */
  objectNodes(ids: readonly string[]): Promise<Map<string, string>>;
  touchObject(id: string, now: number): Promise<void>;
  /** Moves an object's cursor forward (never back). */
  setCursor(id: string, cursor: number): Promise<void>;
  /** Moves an object to `toNode` only if `fromNode` still holds it: of two takers, one wins. */
  takeOver(id: string, fromNode: string, toNode: string): Promise<boolean>;
  deleteObject(id: string): Promise<boolean>;
  /** Deletes objects last seen before `seenBefore`; returns how many. */
  deleteIdleObjects(seenBefore: number): Promise<number>;
  /** A user's objects, oldest first. */
  objectsOf(userId: number): Promise<SessionObject[]>;

  // ---- what the nodes share ----------------------------------------------------------------------

  /**
   * A secret shared by every node: stores `candidate` under `name` unless a
   * value is there already, and returns the stored value (the first node wins).
   */
  sharedSecret(name: string, candidate: string): Promise<string>;
  /** Holds (or renews) a node's lease under its public URL until `until`. */
  renewLease(nodeId: string, publicUrl: string, until: number, now: number): Promise<void>;
  lease(nodeId: string): Promise<{ publicUrl: string; leaseUntil: number } | null>;
  /** Nodes other than `except` whose lease ended before `now`. */
  expiredNodes(now: number, except: string): Promise<string[]>;
  /** Ends a node's lease now (a clean stop). */
  releaseLease(nodeId: string): Promise<void>;
}

// ---- the message cache's group commit ----------------------------------------------------------

/** One message to store, with the recipients that each get a 'pending' delivery row. */
export interface CommitEntry {
  sessionId: string;
  fromUserId: number;
  kind: 'text' | 'voice';
  text: string | null;
  audioId: string | null;
  audioUrl: string | null;
  recipients: number[];
  createdAt: number;
  /**
   * The client's own id for this post (idempotent posting): unique per
   * sender and session. When a message of that sender and session already
   * holds it, nothing is written and the result names that message.
   */
  clientMessageId?: string | null;
  /**
   * The membership version (PresenceStore.membership) the post was checked
   * against, sender and recipients. When the session's version is another at
   * commit, or the session is gone, nothing is written for the entry and its
   * result is stale. Absent: not checked.
   */
  membershipVersion?: number | null;
}

/** The message an entry became once stored under `id`. */
export const storedMessageOf = (e: CommitEntry, id: number): StoredMessage => ({
  id: String(id),
  sessionId: e.sessionId,
  fromUserId: e.fromUserId,
  kind: e.kind,
  text: e.text,
  audioId: e.audioId,
  audioUrl: e.audioUrl,
  createdAt: e.createdAt,
});

/** A recipient's link was given a message (pending or notified becomes delivered). */
export interface DeliveredUpdate {
  userId: number;
  messageId: number;
}

/**
 * The id given to an entry, or the reason it could not be stored. `existing`:
 * the entry's client message id was already held (by a message committed
 * before, or earlier in the same batch); nothing was written for the entry,
 * and `existing` is that message as stored (`id` is its id).
 */
export type CommitResult =
  | { ok: true; id: number; existing?: StoredMessage }
  /** `isStale`: the entry's membership version is not the session's (nothing was written; check again). */
  | { ok: false; reason: string; isStale?: boolean };

/** What one group commit writes. */
export interface CommitBatch {
  entries: CommitEntry[];
  /** Deliveries that ride along (not on anyone's acknowledgement path). */
  delivered: DeliveredUpdate[];
  /** Session-object cursors to move forward: [object id, message id]. */
  cursors: [string, number][];
  now: number;
}

/**
 * The message cache's durable writer. `commit` stores the entries and their
 * delivery rows in one transaction that is durable when it resolves (a crash
 * or power loss afterwards keeps them); when that transaction fails, each
 * entry is tried alone, so one bad message cannot sink the others. The
 * ride-along deliveries and cursors are best effort (a delivery left pending
 * is given again: at least once). It never rejects: a failure is a result.
 * The cache calls commit with one batch at a time.
 */
export interface MessageCommitter {
  commit(batch: CommitBatch): Promise<CommitResult[]>;
  /** Gets ready now (a thread, a connection), so the first message does not pay for it; never fails. */
  warm(): void;
  /** Waits for the commit under way, then lets go of what it holds. */
  close(): Promise<void>;
}

// ---- between the nodes of a community ------------------------------------------------------------

/** What one node tells the others. */
export type NodeFeedEvent =
  /**
   * A message this node committed: other nodes give it to their links of its
   * recipients (invited and joined members but the sender) and of its sender.
   */
  | { type: 'message'; message: StoredMessage; recipients: number[] }
  /** Something a user's links on other nodes must see (presence, invite, member, contact request, read). */
  | { type: 'link-event'; recipientId: number; event: LinkEvent };

export interface NodeFeedSubscription {
  /**
   * While it answers true the feed may skip what arrives without reading it
   * (this node holds no link that would take it). Default: never idle.
   */
  isIdle?: () => boolean;
}

/**
 * The feed between the nodes sharing one store. A node publishes what its
 * own links caused; every other node that subscribed receives it, once, in
 * the order it was published (messages in commit order), and never its own.
 * A polling adapter finds messages in the store by itself (publishing a
 * message may then do nothing); a pushing adapter sends each as published.
 * Delivery is best effort between nodes that are up: a node that was down
 * catches up on messages through the delivery states, not through the feed.
 */
export interface NodeFeed {
  /** Tells the other nodes (a message: after its commit). */
  publish(event: NodeFeedEvent): Promise<void>;
  /**
   * Starts receiving what other nodes publish from now on; one handler per
   * feed. The handler's errors are the feed's to log, not to stop on.
   */
  subscribe(handler: (event: NodeFeedEvent) => void, options?: NodeFeedSubscription): Promise<void>;
  /** Stops receiving and lets go of connections and timers. */
  close(): Promise<void>;
}
