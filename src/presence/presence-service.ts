/**
 * The presence server: presence, contacts, links, IM sessions, the message
 * cache's rules and routing.
 *
 * Rules:
 * - A user's presence is derived from all of their links on every node: no
 *   link is offline; a phone link is "on the phone"; any other link shows the
 *   state the user chose (default online; "offline" means invisible). The most
 *   available wins: online > on-the-phone > away > busy > offline. Every change
 *   is pushed to the user's approved subscribers and to the user's own links.
 * - A desk phone in a call (an Asterisk device of the user's registry, heard
 *   over AMI) is a presence input beside the links, not a link: it receives
 *   nothing and does not make the user reachable. While one is in a call the
 *   user is "on the phone", whatever the links say (online, away, or no link
 *   at all), except that a user who chose busy stays busy and one who chose
 *   to be invisible stays offline. When it is idle again, the links decide.
 *   Like links, these inputs are kept per node and go with their node.
 * - Contacts are subscriptions. A request waits for the target's approval;
 *   approval makes the subscription mutual (a buddy list, both ways). A
 *   request to someone who already asked you approves both at once.
 * - An IM session has an owner and members (invited, joined, declined, left).
 *   Its controller (this service; SQLite serialises writers) owns membership:
 *   only a joined member may send or invite, and only approved contacts may be
 *   invited; a member who leaves stops receiving, and the others carry on.
 * - A post is checked against the session's membership as this node last read
 *   it (kept in memory: no store read per post), and the group commit stores
 *   it only if the session's membership version is still the one checked; if
 *   any member changed meanwhile (on any node, by federation, by a removed
 *   account) nothing is stored and the post is checked again against a fresh
 *   read. So once a member's removal is committed, no message from them is
 *   stored and no message committed after it names them as a recipient.
 * - Membership gates every read: a member who left or declined reads the
 *   session's history up to that moment and nothing after (invited again,
 *   they read it all).
 * - A message goes to the invited and joined members except its sender. It is
 *   committed (MessageCache, group commit) before the sender is answered, with
 *   a delivery row per recipient. After the commit it is routed: to each open
 *   link of each recipient on this node (delivery becomes 'delivered'), left
 *   pending for a recipient whose links are on another node (that node's tail
 *   routes it), and otherwise reported as unreachable (the notifier's hook).
 *   The sender's other links get a copy.
 * - A link that opens is given the messages still waiting for its user
 *   (pending or notified; for a link of a session object also those delivered
 *   elsewhere after its cursor), oldest first, each once.
 * - A link shows a message once. Each link remembers the ids of the last
 *   messages it was given (RECENT_PER_LINK) and drops a repeat: a message
 *   another node committed while the link opened reaches it both from the
 *   store (the waiting messages) and, later, from the node feed; a feed or a
 *   peer may repeat an event. Ids, not a high-water mark: ids are drawn
 *   before commit, so across nodes a smaller id may arrive after a larger.
 * - A post may carry a client message id (idempotent posting): a repeat by
 *   the same sender in the same session is answered with the message stored
 *   the first time and is neither stored nor routed again; a repeat with
 *   another body is refused (PRESENCE_CLIENT_ID_CONFLICT). The store's unique
 *   index decides inside the group commit, so two racing repeats store one.
 * - Message order is commit order: message ids increase across the community.
 * - Several nodes may share the store. Each node gives its own links what
 *   other nodes committed (messages) or told them (presence, invitations,
 *   membership changes) through the store's node feed (NodeFeed: polled on
 *   SQLite, pushed on PostgreSQL).
 * - Storage is async. Presence pushes for one user run one after another, so
 *   subscribers see a user's changes in the order they happened; a voice
 *   message's audio URL is signed again each time the message is read
 *   (signed URLs expire, the audio id does not).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AccountService } from '../accounts/account-service.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import { checkText } from '../core/sanitize.js';
import { RecentSet } from '../core/recent-set.js';
import { Hook } from './events.js';
import { type Appended, type MessageCache, MembershipChanged } from './message-cache.js';
import type { Membership, NodeFeed, NodeFeedEvent, PresenceStore } from './ports.js';
import type { SessionObjects } from './session-objects.js';
import {
  CHOSEN_STATES,
  type ChosenState,
  type Contact,
  type ContactRequest,
  type DeliveryState,
  type ImSession,
  type InvitedEvent,
  type Link,
  type LinkEvent,
  type LinkKind,
  type LinkOpenedEvent,
  type LinkOptions,
  type MemberChangedEvent,
  LINK_KINDS,
  type MessageStoredEvent,
  type PostMessageInput,
  type Posted,
  type Presence,
  type PresenceState,
  type ReadEvent,
  type SessionMember,
  type StoredMessage,
  type UnreachableEvent,
} from './types.js';

/** A client message id: 1-64 visible ASCII characters (no spaces, no control characters). */
const CLIENT_MESSAGE_ID = /^[\x21-\x7e]{1,64}$/;

function checkClientMessageId(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !CLIENT_MESSAGE_ID.test(value))
    throw new AppError('PRESENCE_INVALID_INPUT', 'a client message id is 1 to 64 visible ASCII characters', {
      field: 'clientMessageId',
    });
  return value;
}

type MessageEvent = Extract<LinkEvent, { type: 'message' }>;

/** Sessions whose membership a node keeps in memory (the oldest read goes first). */
const MAX_KNOWN_MEMBERSHIPS = 50_000;
/** Users whose link kinds one store read answers at most. */
const MAX_KINDS_PER_READ = 2_000;
/** Commits refused because the membership changed meanwhile, before a post gives up. */
const MAX_STALE_TRIES = 5;
/** Message ids a link remembers having shown (the oldest are forgotten first). */
export const RECENT_PER_LINK = 1024;

const RANK: Record<PresenceState, number> = { online: 4, 'on-the-phone': 3, away: 2, busy: 1, offline: 0 };

export interface PresenceServiceDeps {
  repo: PresenceStore;
  cache: MessageCache;
  /** What the other nodes of the community committed or told this node's links. */
  feed: NodeFeed;
  objects: SessionObjects;
  accounts: AccountService;
  clock: Clock;
  log: Logger;
  nodeId: string;
  maxMessageBytes: number;
  /** A freshly signed URL of a voice message's audio (null: keep the stored one). */
  audioUrl?: ((audioId: string) => string | null) | undefined;
  /** Where messages stored and delivered are reported. */
  metrics?: Metrics;
}

class OpenLink implements Link {
  isOpen = true;
  /** While the link's waiting messages are read: live messages that arrived meanwhile. */
  held: { event: MessageEvent; isLive: boolean }[] | undefined;
  /** The ids of the last messages this link showed. */
  private readonly shown = new RecentSet<string>(RECENT_PER_LINK);
  constructor(
    readonly id: string,
    readonly userId: number,
    readonly kind: LinkKind,
    readonly deliver: (event: LinkEvent) => void,
    readonly sessionObjectId: string | undefined,
    private readonly onClose: (link: OpenLink) => Promise<void>,
  ) {}

  hasShown(messageId: string): boolean {
    return this.shown.has(messageId);
  }

  remember(messageId: string): void {
    this.shown.add(messageId);
  }

  /** Resolves once the user's presence reflects the closing. */
  close(): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    this.isOpen = false;
    return this.onClose(this);
  }
}

export class PresenceService {
  private readonly repo: PresenceStore;
  private readonly cache: MessageCache;
  private readonly feed: NodeFeed;
  private readonly audioUrl: ((audioId: string) => string | null) | undefined;
  readonly objects: SessionObjects;
  private readonly accounts: AccountService;
  private readonly clock: Clock;
  private readonly log: Logger;
  readonly nodeId: string;
  private readonly maxMessageBytes: number;
  private readonly metrics: Metrics | undefined;
  private readonly links = new Map<number, Set<OpenLink>>();
  private readonly lastPresence = new Map<number, string>();
  /** Each user's presence push under way: the next one waits for it. */
  private readonly pushes = new Map<number, Promise<void>>();
  /** Sessions' membership as last read, by session id (see membershipOf). */
  private readonly memberships = new Map<string, Membership>();
  private readonly membershipReads = new Map<string, Promise<Membership | null>>();
  /** Users whose link kinds are asked for in this tick, and the one read that answers them all. */
  private kindsWanted: { ids: Set<number>; read: Promise<Map<number, LinkKind[]>> } | undefined;
  private closed = false;

  private readonly unreachableHook: Hook<UnreachableEvent>;
  private readonly linkOpenedHook: Hook<LinkOpenedEvent>;
  private readonly readHook: Hook<ReadEvent>;
  private readonly storedHook: Hook<MessageStoredEvent>;
  private readonly presenceHook: Hook<Presence>;
  private readonly invitedHook: Hook<InvitedEvent>;
  private readonly memberHook: Hook<MemberChangedEvent>;

  constructor(deps: PresenceServiceDeps) {
    this.repo = deps.repo;
    this.cache = deps.cache;
    this.feed = deps.feed;
    this.audioUrl = deps.audioUrl;
    this.objects = deps.objects;
    this.accounts = deps.accounts;
    this.clock = deps.clock;
    this.log = deps.log;
    this.nodeId = deps.nodeId;
    this.maxMessageBytes = deps.maxMessageBytes;
    this.metrics = deps.metrics;
    const onError = (e: unknown) => this.log.error({ err: e }, 'a presence listener failed');
    this.unreachableHook = new Hook(onError);
    this.linkOpenedHook = new Hook(onError);
    this.readHook = new Hook(onError);
    this.storedHook = new Hook(onError);
    this.presenceHook = new Hook(onError);
    this.invitedHook = new Hook(onError);
    this.memberHook = new Hook(onError);
  }

  /** Drops the links this node recorded before a restart and starts taking what other nodes send. */
  async start(): Promise<void> {
    await this.dropNode(this.nodeId);
    await this.feed.subscribe((e) => this.fromOtherNode(e), { isIdle: () => this.links.size === 0 });
    this.cache.warm();
  }

  /** Closes every link, commits what is queued and stops. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed.close();
    for (const set of [...this.links.values()]) for (const l of [...set]) await l.close();
    await Promise.allSettled([...this.pushes.values()]);
    await this.cache.close();
  }

  /** A secret every node of the community shares (created on first use). */
  async sharedSecret(name: string): Promise<Buffer> {
    return Buffer.from(await this.repo.sharedSecret(name, randomBytes(32).toString('base64url')), 'base64url');
  }

  /** A node's lease lapsed: its links no longer count for presence. */
  async nodeExpired(nodeId: string): Promise<void> {
    await this.dropNode(nodeId);
  }

  private async dropNode(nodeId: string): Promise<void> {
    const users = [
      ...(await this.repo.deleteLinksOfNode(nodeId)),
      ...(await this.repo.deleteDeviceCallsOfNode(nodeId)),
    ];
    await Promise.all([...new Set(users)].map((u) => this.pushPresence(u)));
  }

  /** A stored message with its voice URL signed now. */
  private fresh(m: StoredMessage): StoredMessage {
    const url = m.audioId && this.audioUrl ? this.audioUrl(m.audioId) : null;
    return url ? { ...m, audioUrl: url } : m;
  }

  // ---- hooks ---------------------------------------------------------------------

  /** A recipient had no link anywhere when a message was stored (the notifier starts its ladder). */
  onUnreachable(listener: (e: UnreachableEvent) => void): () => void {
    return this.unreachableHook.on(listener);
  }

  /** A user opened a link (the notifier cancels its ladder). */
  onLinkOpened(listener: (e: LinkOpenedEvent) => void): () => void {
    return this.linkOpenedHook.on(listener);
  }

  /** A user read messages (the notifier cancels its ladder). */
  onRead(listener: (e: ReadEvent) => void): () => void {
    return this.readHook.on(listener);
  }

  /** A message was committed (the audio server pre-renders for recipients on the phone). */
  onMessageStored(listener: (e: MessageStoredEvent) => void): () => void {
    return this.storedHook.on(listener);
  }

  onPresence(listener: (e: Presence) => void): () => void {
    return this.presenceHook.on(listener);
  }

  /** Someone was invited to a session (the notifier may call an unreachable invitee). */
  /** A member of a session was invited, joined, declined or left (after the change is stored). */
  onMemberChanged(listener: (e: MemberChangedEvent) => void): () => void {
    return this.memberHook.on(listener);
  }

  onInvited(listener: (e: InvitedEvent) => void): () => void {
    return this.invitedHook.on(listener);
  }

  // ---- links and presence -----------------------------------------------------------

  async openLink(userId: number, options: LinkOptions): Promise<Link> {
    if (this.closed) throw new AppError('PRESENCE_CLOSED', 'the presence server is shutting down');
    if (!LINK_KINDS.includes(options.kind))
      throw new AppError('PRESENCE_INVALID_INPUT', `unknown link kind "${String(options.kind)}"`);
    const link = new OpenLink(randomUUID(), userId, options.kind, options.deliver, options.sessionObjectId, (l) =>
      this.closeLink(l),
    );
    // Live messages wait while the waiting ones are read, so that the link gets them in order.
    if (options.replay !== false) link.held = [];
    // The node holds the link from the first moment (before any store round trip): whoever was told the link is
    // opening (a WebSocket's hello frame is sent as this is called) finds it here, whatever the store's latency.
    let set = this.links.get(userId);
    if (!set) {
      set = new Set();
      this.links.set(userId, set);
    }
    set.add(link);
    try {
      await this.requireUser(userId);
    } catch (e) {
      set.delete(link);
      if (set.size === 0 && this.links.get(userId) === set) this.links.delete(userId);
      throw e;
    }
    await this.repo.insertLink(link.id, userId, link.kind, this.nodeId, this.clock.now());
    this.log.debug({ user: userId, link: link.id, kind: link.kind }, 'link opened');
    await this.pushPresence(userId);
    this.linkOpenedHook.emit({ userId, linkId: link.id, kind: link.kind });
    if (options.replay !== false) await this.replay(link);
    return link;
  }

  private async closeLink(link: OpenLink): Promise<void> {
    // A closing link gets nothing more (localLinks skips it) but is held until the store has forgotten it too, so
    // that whoever sees it gone here finds the user's presence without it, whatever the store's latency.
    try {
      await this.repo.deleteLink(link.id);
    } finally {
      const set = this.links.get(link.userId);
      set?.delete(link);
      if (set && set.size === 0 && this.links.get(link.userId) === set) this.links.delete(link.userId);
    }
    this.log.debug({ user: link.userId, link: link.id }, 'link closed');
    if (!this.closed) await this.pushPresence(link.userId);
  }

  private async replay(link: OpenLink): Promise<void> {
    let messages: StoredMessage[] = [];
    try {
      // Deliveries recorded but not yet committed count as delivered.
      const waiting = (await this.repo.messagesFor(link.userId, ['pending', 'notified'])).filter(
        (m) => !this.cache.isDeliveredUnsettled(link.userId, Number(m.id)),
      );
      messages = waiting;
      if (link.sessionObjectId) {
        const object = await this.objects.get(link.sessionObjectId);
        if (object) {
          const seen = new Set(waiting.map((m) => m.id));
          const cursor = Math.max(Number(object.cursor), this.cache.unsettledCursor(object.id));
          const after = (await this.repo.messagesFor(link.userId, ['delivered'], { afterId: cursor })).filter(
            (m) => !seen.has(m.id),
          );
          messages = [...waiting, ...after].sort((a, b) => Number(a.id) - Number(b.id));
        }
      }
    } finally {
      const held = link.held ?? [];
      link.held = undefined;
      for (const m of messages) this.sendTo(link, { type: 'message', message: this.fresh(m) });
      // A live message that was among the waiting ones has been shown already (sendTo drops it).
      for (const h of held) this.sendTo(link, h.event, h.isLive);
    }
  }

  /** Hands a message to a link; `isLive` when it was just committed (its delivery latency counts). */
  private sendTo(link: OpenLink, event: MessageEvent, isLive = false): void {
    if (!link.isOpen) return;
    if (link.held) {
      link.held.push({ event, isLive });
      return;
    }
    const { message } = event;
    if (link.hasShown(message.id)) return;
    try {
      link.deliver(event);
    } catch (e) {
      this.log.warn({ err: e, link: link.id }, 'a link refused a message; it stays pending');
      return;
    }
    link.remember(message.id);
    this.cache.markDelivered(link.userId, Number(message.id), link.sessionObjectId);
    this.metrics?.messageDelivered(link.kind, isLive ? (this.clock.now() - message.createdAt) / 1000 : undefined);
  }

  /** The user's open links on this node (what messages and events go to). */
  private localLinks(userId: number): OpenLink[] {
    const set = this.links.get(userId);
    return set ? [...set].filter((l) => l.isOpen) : [];
  }

  /** The links this node holds for a user, closing ones until the store has forgotten them (admin views, tests). */
  linksOf(userId: number): Link[] {
    const set = this.links.get(userId);
    return set ? [...set] : [];
  }

  async presenceOf(userId: number): Promise<Presence> {
    const kinds = await this.repo.linkKinds(userId);
    const chosen = await this.repo.chosen(userId);
    let state: PresenceState = 'offline';
    if (chosen?.state !== 'offline') {
      for (const k of kinds) {
        const s: PresenceState = k === 'phone' ? 'on-the-phone' : (chosen?.state ?? 'online');
        if (RANK[s] > RANK[state]) state = s;
      }
      if (state !== 'busy' && (await this.repo.deviceCallsOf(userId)).length > 0) state = 'on-the-phone';
    }
    return { userId, state, statusText: state === 'offline' ? null : (chosen?.statusText ?? null) };
  }

  /**
   * An Asterisk device is in a call for these users (none: it is idle, or
   * its state is unknown). Users it no longer names are let go.
   */
  async setDeviceCall(device: string, userIds: number[]): Promise<void> {
    if (this.closed) return;
    for (const u of await this.repo.setDeviceCalls(device, this.nodeId, userIds, this.clock.now()))
      await this.pushPresence(u);
  }

  /** The Asterisk devices a user is in a call on now (heard by any node). */
  async deviceCallsOf(userId: number): Promise<string[]> {
    return await this.repo.deviceCallsOf(userId);
  }

  async setPresence(userId: number, state: ChosenState, statusText?: string | null): Promise<Presence> {
    await this.requireUser(userId);
    if (!CHOSEN_STATES.includes(state))
      throw new AppError('PRESENCE_INVALID_INPUT', `presence must be one of ${CHOSEN_STATES.join(', ')}`, {
        field: 'state',
      });
    const text =
      statusText === undefined || statusText === null || statusText === ''
        ? null
        : checkText(statusText, { field: 'status text', maxChars: 140, code: 'PRESENCE_INVALID_INPUT' });
    await this.repo.setChosen(userId, state, text, this.clock.now());
    await this.pushPresence(userId);
    return await this.presenceOf(userId);
  }

  /** Tells the user's links and subscribers their presence if it changed; one push per user at a time, in order. */
  private pushPresence(userId: number): Promise<void> {
    const next = (this.pushes.get(userId) ?? Promise.resolve())
      .then(() => this.pushPresenceNow(userId))
      .catch((e: unknown) => this.log.error({ err: e, user: userId }, 'could not push presence'));
    this.pushes.set(userId, next);
    void next.finally(() => {
      if (this.pushes.get(userId) === next) this.pushes.delete(userId);
    });
    return next;
  }

  private async pushPresenceNow(userId: number): Promise<void> {
    const p = await this.presenceOf(userId);
    const key = `${p.state}|${p.statusText ?? ''}`;
    if (this.lastPresence.get(userId) === key) return;
    this.lastPresence.set(userId, key);
    const event: LinkEvent = { type: 'presence', presence: p };
    for (const s of [userId, ...(await this.repo.subscribersOf(userId))]) await this.deliverEvent(s, event);
    this.presenceHook.emit(p);
  }

  /**
   * Gives an event to the user's links on this node, and sends it to the
   * other nodes when the user has links there too. Returns how many links
   * of this node took it.
   */
  private async deliverEvent(userId: number, event: LinkEvent): Promise<number> {
    const n = this.deliverLocal(userId, event);
    if (await this.repo.hasLinksElsewhere(userId, this.nodeId))
      await this.feed.publish({ type: 'link-event', recipientId: userId, event });
    return n;
  }

  private deliverLocal(userId: number, event: LinkEvent): number {
    let n = 0;
    for (const l of this.localLinks(userId)) {
      try {
        l.deliver(event);
        n++;
      } catch (e) {
        this.log.warn({ err: e, link: l.id }, 'a link refused an event');
      }
    }
    return n;
  }

  // ---- contacts --------------------------------------------------------------------

  /** Asks to see `targetId`'s presence. Returns the subscription's state afterwards. */
  async requestContact(userId: number, targetId: number): Promise<'requested' | 'approved'> {
    await this.requireUser(userId);
    await this.requireUser(targetId);
    if (userId === targetId)
      throw new AppError('PRESENCE_INVALID_INPUT', 'you cannot add yourself as a contact', { field: 'contact' });
    const current = await this.repo.subscription(userId, targetId);
    if (current === 'approved') return 'approved';
    if ((await this.repo.subscription(targetId, userId)) === 'requested') {
      await this.approveContact(userId, targetId);
      return 'approved';
    }
    await this.repo.upsertSubscription(userId, targetId, 'requested', this.clock.now());
    await this.deliverEvent(targetId, { type: 'contact-request', fromUserId: userId });
    return 'requested';
  }

  /** Approves `fromUserId`'s request: both now see each other. */
  async approveContact(userId: number, fromUserId: number): Promise<void> {
    if ((await this.repo.subscription(fromUserId, userId)) !== 'requested')
      throw new AppError('PRESENCE_REQUEST_NOT_FOUND', 'there is no contact request from that user');
    const now = this.clock.now();
    await this.repo.approveMutual(userId, fromUserId, now);
    await this.deliverEvent(fromUserId, { type: 'presence', presence: await this.presenceOf(userId) });
    await this.deliverEvent(userId, { type: 'presence', presence: await this.presenceOf(fromUserId) });
  }

  async declineContact(userId: number, fromUserId: number): Promise<void> {
    if ((await this.repo.subscription(fromUserId, userId)) !== 'requested')
      throw new AppError('PRESENCE_REQUEST_NOT_FOUND', 'there is no contact request from that user');
    await this.repo.deleteSubscription(fromUserId, userId);
  }

  async removeContact(userId: number, otherId: number): Promise<void> {
    await this.repo.deleteMutual(userId, otherId);
  }

  async isContact(userId: number, otherId: number): Promise<boolean> {
    return (await this.repo.subscription(userId, otherId)) === 'approved';
  }

  /** The buddy list: each contact with their presence (hidden until they approve). */
  async contacts(userId: number): Promise<Contact[]> {
    const out: Contact[] = [];
    for (const s of await this.repo.subscriptionsOf(userId)) {
      const u = await this.accounts.userById(s.targetId);
      if (!u) continue;
      out.push({
        userId: u.id,
        username: u.username,
        displayName: u.displayName,
        subscription: s.state,
        presence:
          s.state === 'approved' ? await this.presenceOf(u.id) : { userId: u.id, state: 'offline', statusText: null },
      });
    }
    return out;
  }

  async contactRequests(userId: number): Promise<ContactRequest[]> {
    const out: ContactRequest[] = [];
    for (const r of await this.repo.requestsTo(userId)) {
      const u = await this.accounts.userById(r.fromUserId);
      if (u) out.push({ fromUserId: u.id, username: u.username, displayName: u.displayName, createdAt: r.createdAt });
    }
    return out;
  }

  // ---- IM sessions (the controller) ----------------------------------------------------

  async createSession(ownerId: number, inviteeIds: number[]): Promise<ImSession> {
    await this.requireUser(ownerId);
    if (!Array.isArray(inviteeIds) || inviteeIds.length === 0)
      throw new AppError('PRESENCE_INVALID_INPUT', 'invite at least one contact', { field: 'invitees' });
    const invitees = [...new Set(inviteeIds)];
    if (invitees.length > 50)
      throw new AppError('PRESENCE_INVALID_INPUT', 'a session has at most 50 invitees', { field: 'invitees' });
    for (const id of invitees) await this.checkInvitee(ownerId, id);
    const id = randomUUID();
    await this.repo.insertSession(id, ownerId, invitees, this.clock.now());
    const session = (await this.repo.session(id)) as ImSession;
    this.log.info({ session: id, owner: ownerId, invitees }, 'session created');
    for (const u of invitees) await this.announceInvite(session, ownerId, u);
    return session;
  }

  async invite(sessionId: string, byUserId: number, inviteeId: number): Promise<ImSession> {
    await this.requireJoined(sessionId, byUserId);
    await this.checkInvitee(byUserId, inviteeId);
    const state = await this.repo.memberState(sessionId, inviteeId);
    if (state === 'joined' || state === 'invited') return (await this.repo.session(sessionId)) as ImSession;
    await this.repo.setMember(sessionId, inviteeId, 'invited', byUserId, this.clock.now());
    const session = (await this.repo.session(sessionId)) as ImSession;
    await this.memberChanged(session, inviteeId, 'invited');
    await this.announceInvite(session, byUserId, inviteeId);
    return session;
  }

  async accept(sessionId: string, userId: number): Promise<ImSession> {
    return await this.answer(sessionId, userId, 'joined');
  }

  async decline(sessionId: string, userId: number): Promise<ImSession> {
    return await this.answer(sessionId, userId, 'declined');
  }

  async leave(sessionId: string, userId: number): Promise<ImSession> {
    const state = await this.memberOrThrow(sessionId, userId);
    if (state === 'left' || state === 'declined') return (await this.repo.session(sessionId)) as ImSession;
    await this.repo.setMember(sessionId, userId, 'left', null, this.clock.now());
    const session = (await this.repo.session(sessionId)) as ImSession;
    await this.memberChanged(session, userId, 'left');
    return session;
  }

  private async answer(sessionId: string, userId: number, to: 'joined' | 'declined'): Promise<ImSession> {
    const state = await this.memberOrThrow(sessionId, userId);
    if (state === to) return (await this.repo.session(sessionId)) as ImSession;
    if (state !== 'invited')
      throw new AppError('PRESENCE_NOT_INVITED', `you have no open invitation to this session (you ${state} it)`);
    await this.repo.setMember(sessionId, userId, to, null, this.clock.now());
    const session = (await this.repo.session(sessionId)) as ImSession;
    await this.memberChanged(session, userId, to);
    return session;
  }

  /**
   * A session whose controller is in another community (federation): its id
   * and membership come from there, so there is no contact check here. The
   * owner (the remote inviter's local stand-in) is joined; invitees invited.
   */
  async createSessionFromPeer(id: string, ownerId: number, inviteeIds: number[]): Promise<ImSession> {
    await this.requireUser(ownerId);
    for (const u of inviteeIds) await this.requireUser(u);
    await this.repo.insertSession(id, ownerId, inviteeIds, this.clock.now());
    const session = (await this.repo.session(id)) as ImSession;
    this.log.info({ session: id, owner: ownerId, invitees: inviteeIds }, 'session created by a peer');
    for (const u of inviteeIds) await this.announceInvite(session, ownerId, u);
    return session;
  }

  /**
   * Sets a member's state as another community reports it (a remote member
   * invited, joined, declined or left); no contact check, no inviter rules.
   */
  async setMemberFromPeer(
    sessionId: string,
    userId: number,
    state: SessionMember['state'],
    byUserId: number | null,
  ): Promise<ImSession> {
    await this.requireUser(userId);
    if (!(await this.repo.session(sessionId))) throw new AppError('PRESENCE_SESSION_NOT_FOUND', 'no such session');
    const before = await this.repo.memberState(sessionId, userId);
    if (before === state) return (await this.repo.session(sessionId)) as ImSession;
    await this.repo.setMember(sessionId, userId, state, state === 'invited' ? byUserId : null, this.clock.now());
    const session = (await this.repo.session(sessionId)) as ImSession;
    await this.memberChanged(session, userId, state);
    if (state === 'invited' && byUserId !== null) await this.announceInvite(session, byUserId, userId);
    return session;
  }

  /** A session the user is or was a member of. */
  async session(sessionId: string, userId: number): Promise<ImSession> {
    await this.memberOrThrow(sessionId, userId);
    return (await this.repo.session(sessionId)) as ImSession;
  }

  /** The sessions a user is invited to or has joined, newest first. */
  async sessionsOf(userId: number): Promise<ImSession[]> {
    const out: ImSession[] = [];
    for (const id of await this.repo.sessionIdsOf(userId, ['invited', 'joined'])) {
      const s = await this.repo.session(id);
      if (s) out.push(s);
    }
    return out;
  }

  async members(sessionId: string): Promise<SessionMember[]> {
    const s = await this.repo.session(sessionId);
    if (!s) throw new AppError('PRESENCE_SESSION_NOT_FOUND', 'no such session');
    return s.members;
  }

  private async checkInvitee(byUserId: number, inviteeId: number): Promise<void> {
    if (!Number.isInteger(inviteeId) || !(await this.accounts.userById(inviteeId)))
      throw new AppError('PRESENCE_USER_NOT_FOUND', `no user ${String(inviteeId)}`);
    if (inviteeId === byUserId)
      throw new AppError('PRESENCE_INVALID_INPUT', 'you cannot invite yourself', { field: 'invitees' });
    if (!(await this.isContact(byUserId, inviteeId)))
      throw new AppError('PRESENCE_NOT_CONTACT', 'only approved contacts can be invited');
  }

  private async announceInvite(session: ImSession, inviterId: number, inviteeId: number): Promise<void> {
    const n = await this.deliverEvent(inviteeId, { type: 'invite', session, inviterId });
    this.invitedHook.emit({
      session,
      inviterId,
      inviteeId,
      isReachable: n > 0 || (await this.hasLinkAnywhere(inviteeId)),
    });
  }

  private async memberChanged(session: ImSession, userId: number, state: SessionMember['state']): Promise<void> {
    this.memberships.delete(session.id);
    this.log.info({ session: session.id, user: userId, state }, 'member changed');
    this.memberHook.emit({ session, userId, state });
    for (const m of session.members)
      if (m.state === 'joined' || m.state === 'invited' || m.userId === userId)
        await this.deliverEvent(m.userId, { type: 'member', sessionId: session.id, userId, state });
  }

  private async memberOrThrow(sessionId: string, userId: number): Promise<SessionMember['state']> {
    const state = typeof sessionId === 'string' ? await this.repo.memberState(sessionId, userId) : null;
    if (!state) throw new AppError('PRESENCE_SESSION_NOT_FOUND', 'no such session');
    return state;
  }

  private async requireJoined(sessionId: string, userId: number): Promise<void> {
    const state = await this.memberOrThrow(sessionId, userId);
    if (state !== 'joined')
      throw new AppError(
        'PRESENCE_NOT_MEMBER',
        state === 'invited' ? 'accept the invitation first' : 'you are no longer a member of this session',
      );
  }

  private async requireUser(userId: number): Promise<void> {
    if (!Number.isInteger(userId) || !(await this.accounts.userById(userId)))
      throw new AppError('PRESENCE_USER_NOT_FOUND', `no user ${String(userId)}`);
  }

  // ---- messages --------------------------------------------------------------------

  /** Checks, stores (durably) and routes a message; resolves with it after the commit. */
  async postMessage(input: PostMessageInput, options: { viaLinkId?: string } = {}): Promise<StoredMessage> {
    return (await this.post(input, options)).message;
  }

  /**
   * As postMessage, and says whether this post stored the message (isNew) or
   * repeated an earlier post with the same client message id.
   */
  async post(input: PostMessageInput, options: { viaLinkId?: string } = {}): Promise<Posted> {
    if (this.closed) throw new AppError('PRESENCE_CLOSED', 'the presence server is shutting down');
    if (typeof input !== 'object' || input === null)
      throw new AppError('PRESENCE_INVALID_INPUT', 'a message needs a session, a sender and a body');
    const { sessionId, fromUserId } = input;
    if (typeof sessionId !== 'string' || sessionId.length > 64)
      throw new AppError('PRESENCE_SESSION_NOT_FOUND', 'no such session');
    let membership = await this.membershipOf(sessionId, false);
    this.requireSender(membership, fromUserId);
    let text: string | null;
    let audioId: string | null = null;
    let audioUrl: string | null = null;
    let kind: 'text' | 'voice';
    if ('voice' in input && input.voice !== undefined) {
      kind = 'voice';
      const v = input.voice;
      audioId = checkText(v?.audioId, { field: 'audio id', maxChars: 128, code: 'PRESENCE_INVALID_INPUT' });
      const url = checkText(v?.url, { field: 'audio URL', maxChars: 2048, code: 'PRESENCE_INVALID_INPUT' });
      if (!/^https?:\/\//i.test(url) || !URL.canParse(url))
        throw new AppError('PRESENCE_INVALID_INPUT', 'the audio URL must be an http(s) URL', { field: 'audio URL' });
      audioUrl = url;
      text = v.text === undefined || v.text === null || v.text === '' ? null : this.checkBody(v.text);
    } else {
      kind = 'text';
      text = this.checkBody((input as { text?: unknown }).text);
    }
    // A repeat is found by the commit itself (off the main thread on SQLite), not by a read before it.
    const clientMessageId = checkClientMessageId(input.clientMessageId);
    let appended: Appended | undefined;
    let recipients: number[] = [];
    for (let attempt = 1; !appended; attempt++) {
      recipients = membership.members
        .filter((m) => m.userId !== fromUserId && (m.state === 'invited' || m.state === 'joined'))
        .map((m) => m.userId);
      try {
        appended = await this.cache.append({
          sessionId,
          fromUserId,
          kind,
          text,
          audioId,
          audioUrl,
          recipients,
          clientMessageId,
          membershipVersion: membership.version,
        });
      } catch (e) {
        if (!(e instanceof MembershipChanged)) throw e;
        // Checked against a copy older than the store's membership: nothing was stored; check again, fresh.
        if (attempt >= MAX_STALE_TRIES)
          throw new AppError('PRESENCE_STORE_FAILED', 'the message could not be stored', undefined, { cause: e });
        membership = await this.membershipOf(sessionId, true);
        this.requireSender(membership, fromUserId);
      }
    }
    if (!appended.isNew) return { message: this.repeated(appended.message, kind, text, audioId), isNew: false };
    await this.route(appended.message, recipients, options.viaLinkId);
    return appended;
  }

  /**
   * A session's membership as this node last read it (fresh: read again).
   * The copy may be stale, whatever the node heard: the group commit checks
   * its version, so a post checked against it is stored only if no member
   * changed meanwhile (otherwise it is checked again, fresh).
   */
  private async membershipOf(sessionId: string, fresh: boolean): Promise<Membership | null> {
    if (!fresh) {
      const known = this.memberships.get(sessionId);
      if (known) return known;
    }
    // Posts that miss together share one read, and so go on in the order they came: reads on several pooled
    // connections can come back in any order, and a later post would overtake an earlier one.
    const reading = this.membershipReads.get(sessionId);
    if (reading) return reading;
    const read = this.repo.membership(sessionId).then(
      (m) => {
        this.membershipReads.delete(sessionId);
        this.memberships.delete(sessionId);
        if (m) {
          if (this.memberships.size >= MAX_KNOWN_MEMBERSHIPS)
            this.memberships.delete(this.memberships.keys().next().value as string);
          this.memberships.set(sessionId, m);
        }
        return m;
      },
      (e: unknown) => {
        this.membershipReads.delete(sessionId);
        throw e;
      },
    );
    this.membershipReads.set(sessionId, read);
    return read;
  }

  /** The sender must be a joined member. */
  private requireSender(membership: Membership | null, fromUserId: number): asserts membership is Membership {
    const senderState = membership?.members.find((m) => m.userId === fromUserId)?.state;
    if (!senderState) throw new AppError('PRESENCE_SESSION_NOT_FOUND', 'no such session');
    if (senderState !== 'joined')
      throw new AppError(
        'PRESENCE_NOT_MEMBER',
        senderState === 'invited' ? 'accept the invitation first' : 'you are no longer a member of this session',
      );
  }

  /** The stored message a repeat stands for, or a conflict when the repeat's body differs. */
  private repeated(stored: StoredMessage, kind: string, text: string | null, audioId: string | null): StoredMessage {
    if (stored.kind !== kind || stored.text !== text || stored.audioId !== audioId)
      throw new AppError(
        'PRESENCE_CLIENT_ID_CONFLICT',
        'that client message id already names another message of yours in this session',
      );
    return this.fresh(stored);
  }

  private checkBody(value: unknown): string {
    if (typeof value === 'string' && Buffer.byteLength(value, 'utf8') > this.maxMessageBytes)
      throw new AppError('PRESENCE_MESSAGE_TOO_LARGE', `a message may have at most ${this.maxMessageBytes} bytes`, {
        limitBytes: this.maxMessageBytes,
      });
    return checkText(value, {
      field: 'message',
      maxChars: this.maxMessageBytes,
      multiline: true,
      code: 'PRESENCE_INVALID_INPUT',
    });
  }

  /**
   * Gives a committed message to the links on this node at once, then to the
   * other nodes and the hooks. One event object for every link, so a link
   * that serialises it (a WebSocket) can do so once per message.
   */
  private async route(message: StoredMessage, recipients: number[], viaLinkId?: string): Promise<void> {
    const event: MessageEvent = { type: 'message', message };
    const info: MessageStoredEvent['recipients'] = new Array(recipients.length);
    // Recipients with no link on this node, by their place in `recipients`.
    const elsewhere: number[] = [];
    for (let i = 0; i < recipients.length; i++) {
      const r = recipients[i] as number;
      let hasLink = false;
      let hasPhoneLink = false;
      const set = this.links.get(r);
      if (set)
        for (const l of set) {
          if (!l.isOpen) continue;
          hasLink = true;
          if (l.kind === 'phone') hasPhoneLink = true;
          this.sendTo(l, event, true);
        }
      if (hasLink) info[i] = { userId: r, hasLink, hasPhoneLink };
      else elsewhere.push(i);
    }
    const own = this.links.get(message.fromUserId);
    if (own) for (const l of own) if (l.isOpen && l.id !== viaLinkId) this.sendCopy(l, event);
    try {
      await this.feed.publish({ type: 'message', message, recipients });
    } catch (e) {
      // Committed all the same: a recipient on another node gets it from the delivery state when a link opens.
      this.log.error({ err: e, message: message.id }, 'could not tell the other nodes about a message');
    }
    const unreachable: number[] = [];
    for (const i of elsewhere) {
      const r = recipients[i] as number;
      const kinds = await this.linkKindsSoon(r);
      info[i] = { userId: r, hasLink: kinds.length > 0, hasPhoneLink: kinds.includes('phone') };
      if (kinds.length === 0) unreachable.push(r);
    }
    this.metrics?.messageStored(message.kind);
    this.storedHook.emit({ message, recipients: info });
    for (const r of unreachable) this.unreachableHook.emit({ recipientId: r, message });
  }

  /**
   * A user's link kinds on every node, read together with those that the
   * other messages of the same tick ask for (a group commit answers many
   * posts at once): one store read per commit, not one per recipient.
   */
  private linkKindsSoon(userId: number): Promise<LinkKind[]> {
    let batch = this.kindsWanted;
    if (!batch || batch.ids.size >= MAX_KINDS_PER_READ) {
      const ids = new Set<number>();
      const read = new Promise<void>((resolve) => process.nextTick(resolve)).then(async () => {
        if (this.kindsWanted?.ids === ids) this.kindsWanted = undefined;
        const byUser = new Map<number, LinkKind[]>();
        for (const row of await this.repo.linkKindsOf([...ids])) {
          const kinds = byUser.get(row.userId);
          if (kinds) kinds.push(row.kind);
          else byUser.set(row.userId, [row.kind]);
        }
        return byUser;
      });
      batch = { ids, read };
      this.kindsWanted = batch;
    }
    batch.ids.add(userId);
    return batch.read.then((byUser) => byUser.get(userId) ?? []);
  }

  /** The sender's copy of a message, for the sender's other links (not a delivery: no state changes). */
  private sendCopy(link: OpenLink, event: MessageEvent): void {
    const { message } = event;
    if (link.hasShown(message.id)) return;
    try {
      link.deliver(event);
    } catch (e) {
      this.log.warn({ err: e, link: link.id }, 'a link refused an event');
      return;
    }
    link.remember(message.id);
  }

  /** Whether the user has a link on any node of the community (not only this one). */
  async hasLinkAnywhere(userId: number): Promise<boolean> {
    return this.localLinks(userId).length > 0 || (await this.repo.linkKinds(userId)).length > 0;
  }

  /** What another node sent: given to this node's links only (never sent on again). */
  private fromOtherNode(e: NodeFeedEvent): void {
    if (this.closed) return;
    if (e.type === 'link-event') {
      // Another node changed a member: this node's copy is stale (the commit would find out; this saves it the try).
      if (e.event.type === 'member') this.memberships.delete(e.event.sessionId);
      this.deliverLocal(e.recipientId, e.event);
      return;
    }
    const event: MessageEvent = { type: 'message', message: this.fresh(e.message) };
    for (const r of e.recipients) for (const l of this.localLinks(r)) this.sendTo(l, event);
    for (const l of this.localLinks(event.message.fromUserId)) this.sendCopy(l, event);
  }

  /** Messages no link took (delivery pending), stored since `since`: what the notifier picks up on start. */
  async pendingDeliveries(since: number, limit: number): Promise<{ recipientId: number; message: StoredMessage }[]> {
    return (await this.repo.pendingDeliveries(since, limit)).map((d) => ({ ...d, message: this.fresh(d.message) }));
  }

  /** Messages not yet read by the user (pending, notified or delivered), oldest first. */
  async unread(userId: number, sessionId?: string): Promise<StoredMessage[]> {
    const messages = await this.repo.messagesFor(
      userId,
      ['pending', 'notified', 'delivered'],
      sessionId === undefined ? {} : { sessionId },
    );
    return messages.map((m) => this.fresh(m));
  }

  /** A session's messages, oldest first: after `afterId`, or the latest `limit`. */
  async history(
    userId: number,
    sessionId: string,
    options: { afterId?: string; limit?: number } = {},
  ): Promise<StoredMessage[]> {
    await this.memberOrThrow(sessionId, userId);
    // A member who left or declined reads up to that moment, nothing after.
    const until = (await this.repo.readUntil(sessionId, userId)) ?? undefined;
    const limit = Math.min(Math.max(1, options.limit ?? 50), 500);
    const messages =
      options.afterId !== undefined
        ? await this.repo.history(sessionId, this.messageId(options.afterId), limit, until)
        : await this.repo.recent(sessionId, limit, until);
    return messages.map((m) => this.fresh(m));
  }

  /** Marks messages read; returns the ids that changed (unknown and others' ids are ignored). */
  async markRead(userId: number, messageIds: string[]): Promise<string[]> {
    return await this.advance(userId, messageIds, 'read');
  }

  /** The notifier records that it reached the user about these messages. */
  async markNotified(userId: number, messageIds: string[]): Promise<string[]> {
    return await this.advance(userId, messageIds, 'notified');
  }

  private async advance(userId: number, messageIds: string[], to: DeliveryState): Promise<string[]> {
    if (!Array.isArray(messageIds) || messageIds.length > 1000)
      throw new AppError('PRESENCE_INVALID_INPUT', 'give a list of at most 1000 message ids', { field: 'messageIds' });
    const ids = messageIds.map((id) => this.messageId(id));
    const changed = (await this.repo.advanceDeliveries(userId, ids, to, this.clock.now())).map(String);
    if (to === 'read' && changed.length > 0) {
      this.readHook.emit({ userId, messageIds: changed });
      await this.deliverEvent(userId, { type: 'read', userId, messageIds: changed });
    }
    return changed;
  }

  private messageId(id: unknown): number {
    if (typeof id !== 'string' || !/^\d{1,15}$/.test(id))
      throw new AppError('PRESENCE_INVALID_INPUT', `"${String(id).slice(0, 20)}" is not a message id`, {
        field: 'messageId',
      });
    return Number(id);
  }

  /** Per-recipient delivery states (deliveries recorded but not yet committed show as delivered). */
  async deliveryStates(messageId: string): Promise<{ recipientId: number; state: DeliveryState }[]> {
    const id = this.messageId(messageId);
    // A delivery whose commit settles while the store is read can be missed twice: by the read (its snapshot was
    // taken first) and by the unsettled set (emptied meanwhile). So when a commit settled during the read, read again.
    let rows: { recipientId: number; state: DeliveryState }[];
    for (let attempt = 1; ; attempt++) {
      const settled = this.cache.settled;
      rows = await this.repo.deliveryStates(id);
      if (this.cache.settled === settled || attempt >= 3) break;
    }
    return rows.map((d) =>
      (d.state === 'pending' || d.state === 'notified') && this.cache.isDeliveredUnsettled(d.recipientId, id)
        ? { ...d, state: 'delivered' as const }
        : d,
    );
  }

  async message(messageId: string): Promise<StoredMessage | null> {
    const m = await this.repo.message(this.messageId(messageId));
    return m && this.fresh(m);
  }
}
