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
 * - Message order is commit order: message ids increase across the community.
 * - Several nodes may share the store. Each node gives its own links what
 *   other nodes committed (messages) or left for them (presence, invitations,
 *   membership changes) by reading the store a few times a second.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AccountService } from '../accounts/account-service.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import { checkText } from '../core/sanitize.js';
import type { PresenceRepo } from '../store/presence-repo.js';
import { Hook } from './events.js';
import type { MessageCache } from './message-cache.js';
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
  type Presence,
  type PresenceState,
  type ReadEvent,
  type SessionMember,
  type StoredMessage,
  type UnreachableEvent,
} from './types.js';

const RANK: Record<PresenceState, number> = { online: 4, 'on-the-phone': 3, away: 2, busy: 1, offline: 0 };

export interface PresenceServiceDeps {
  repo: PresenceRepo;
  cache: MessageCache;
  objects: SessionObjects;
  accounts: AccountService;
  clock: Clock;
  log: Logger;
  nodeId: string;
  maxMessageBytes: number;
  /** How often to look for messages other nodes committed (ms). */
  tailIntervalMs?: number;
  /** Where messages stored and delivered are reported. */
  metrics?: Metrics;
}

class OpenLink implements Link {
  isOpen = true;
  constructor(
    readonly id: string,
    readonly userId: number,
    readonly kind: LinkKind,
    readonly deliver: (event: LinkEvent) => void,
    readonly sessionObjectId: string | undefined,
    private readonly onClose: (link: OpenLink) => void,
  ) {}

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.onClose(this);
  }
}

export class PresenceService {
  private readonly repo: PresenceRepo;
  private readonly cache: MessageCache;
  readonly objects: SessionObjects;
  private readonly accounts: AccountService;
  private readonly clock: Clock;
  private readonly log: Logger;
  readonly nodeId: string;
  private readonly maxMessageBytes: number;
  private readonly metrics: Metrics | undefined;
  private readonly tailIntervalMs: number;
  private readonly links = new Map<number, Set<OpenLink>>();
  private readonly lastPresence = new Map<number, string>();
  private tailTimer: TimerHandle | undefined;
  private tailFrom = 0;
  private eventsFrom = 0;
  private tailRuns = 0;
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
    this.objects = deps.objects;
    this.accounts = deps.accounts;
    this.clock = deps.clock;
    this.log = deps.log;
    this.nodeId = deps.nodeId;
    this.maxMessageBytes = deps.maxMessageBytes;
    this.metrics = deps.metrics;
    this.tailIntervalMs = deps.tailIntervalMs ?? 250;
    const onError = (e: unknown) => this.log.error({ err: e }, 'a presence listener failed');
    this.unreachableHook = new Hook(onError);
    this.linkOpenedHook = new Hook(onError);
    this.readHook = new Hook(onError);
    this.storedHook = new Hook(onError);
    this.presenceHook = new Hook(onError);
    this.invitedHook = new Hook(onError);
    this.memberHook = new Hook(onError);
  }

  /** Drops the links this node recorded before a restart and starts routing other nodes' messages. */
  start(): void {
    this.dropNode(this.nodeId);
    this.tailFrom = this.repo.maxMessageId();
    this.eventsFrom = this.repo.maxNodeEventId();
    this.scheduleTail();
    this.cache.warm();
  }

  /** Closes every link, commits what is queued and stops. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.tailTimer) this.clock.clearTimeout(this.tailTimer);
    for (const set of [...this.links.values()]) for (const l of [...set]) l.close();
    await this.cache.close();
  }

  /** A secret every node of the community shares (created on first use). */
  sharedSecret(name: string): Buffer {
    return Buffer.from(
      this.repo.sharedSecret(name, () => randomBytes(32).toString('base64url')),
      'base64url',
    );
  }

  /** A node's lease lapsed: its links no longer count for presence. */
  nodeExpired(nodeId: string): void {
    this.dropNode(nodeId);
  }

  private dropNode(nodeId: string): void {
    const users = [...this.repo.deleteLinksOfNode(nodeId), ...this.repo.deleteDeviceCallsOfNode(nodeId)];
    for (const u of new Set(users)) this.pushPresence(u);
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

  openLink(userId: number, options: LinkOptions): Link {
    if (this.closed) throw new AppError('PRESENCE_CLOSED', 'the presence server is shutting down');
    if (!LINK_KINDS.includes(options.kind))
      throw new AppError('PRESENCE_INVALID_INPUT', `unknown link kind "${String(options.kind)}"`);
    this.requireUser(userId);
    const link = new OpenLink(randomUUID(), userId, options.kind, options.deliver, options.sessionObjectId, (l) =>
      this.closeLink(l),
    );
    let set = this.links.get(userId);
    if (!set) {
      set = new Set();
      this.links.set(userId, set);
    }
    set.add(link);
    this.repo.insertLink(link.id, userId, link.kind, this.nodeId, this.clock.now());
    this.log.debug({ user: userId, link: link.id, kind: link.kind }, 'link opened');
    this.pushPresence(userId);
    this.linkOpenedHook.emit({ userId, linkId: link.id, kind: link.kind });
    if (options.replay !== false) this.replay(link);
    return link;
  }

  private closeLink(link: OpenLink): void {
    const set = this.links.get(link.userId);
    set?.delete(link);
    if (set && set.size === 0) this.links.delete(link.userId);
    this.repo.deleteLink(link.id);
    this.log.debug({ user: link.userId, link: link.id }, 'link closed');
    if (!this.closed) this.pushPresence(link.userId);
  }

  private replay(link: OpenLink): void {
    // Deliveries recorded but not yet committed count as delivered.
    const waiting = this.repo
      .messagesFor(link.userId, ['pending', 'notified'])
      .filter((m) => !this.cache.isDeliveredUnsettled(link.userId, Number(m.id)));
    let messages = waiting;
    if (link.sessionObjectId) {
      const object = this.objects.get(link.sessionObjectId);
      if (object) {
        const seen = new Set(waiting.map((m) => m.id));
        const cursor = Math.max(Number(object.cursor), this.cache.unsettledCursor(object.id));
        const after = this.repo
          .messagesFor(link.userId, ['delivered'], { afterId: cursor })
          .filter((m) => !seen.has(m.id));
        messages = [...waiting, ...after].sort((a, b) => Number(a.id) - Number(b.id));
      }
    }
    for (const m of messages) this.sendTo(link, m);
  }

  /** Hands a message to a link; `isLive` when it was just committed (its delivery latency counts). */
  private sendTo(link: OpenLink, message: StoredMessage, isLive = false): void {
    try {
      link.deliver({ type: 'message', message });
    } catch (e) {
      this.log.warn({ err: e, link: link.id }, 'a link refused a message; it stays pending');
      return;
    }
    this.cache.markDelivered(link.userId, Number(message.id), link.sessionObjectId);
    this.metrics?.messageDelivered(link.kind, isLive ? (this.clock.now() - message.createdAt) / 1000 : undefined);
  }

  private localLinks(userId: number): OpenLink[] {
    const set = this.links.get(userId);
    return set ? [...set] : [];
  }

  /** The links this node holds for a user (for admin views and tests). */
  linksOf(userId: number): Link[] {
    return this.localLinks(userId);
  }

  presenceOf(userId: number): Presence {
    const kinds = this.repo.linkKinds(userId);
    const chosen = this.repo.chosen(userId);
    let state: PresenceState = 'offline';
    if (chosen?.state !== 'offline') {
      for (const k of kinds) {
        const s: PresenceState = k === 'phone' ? 'on-the-phone' : (chosen?.state ?? 'online');
        if (RANK[s] > RANK[state]) state = s;
      }
      if (state !== 'busy' && this.repo.deviceCallsOf(userId).length > 0) state = 'on-the-phone';
    }
    return { userId, state, statusText: state === 'offline' ? null : (chosen?.statusText ?? null) };
  }

  /**
   * An Asterisk device is in a call for these users (none: it is idle, or
   * its state is unknown). Users it no longer names are let go.
   */
  setDeviceCall(device: string, userIds: number[]): void {
    if (this.closed) return;
    for (const u of this.repo.setDeviceCalls(device, this.nodeId, userIds, this.clock.now())) this.pushPresence(u);
  }

  /** The Asterisk devices a user is in a call on now (heard by any node). */
  deviceCallsOf(userId: number): string[] {
    return this.repo.deviceCallsOf(userId);
  }

  setPresence(userId: number, state: ChosenState, statusText?: string | null): Presence {
    this.requireUser(userId);
    if (!CHOSEN_STATES.includes(state))
      throw new AppError('PRESENCE_INVALID_INPUT', `presence must be one of ${CHOSEN_STATES.join(', ')}`, {
        field: 'state',
      });
    const text =
      statusText === undefined || statusText === null || statusText === ''
        ? null
        : checkText(statusText, { field: 'status text', maxChars: 140, code: 'PRESENCE_INVALID_INPUT' });
    this.repo.setChosen(userId, state, text, this.clock.now());
    this.pushPresence(userId);
    return this.presenceOf(userId);
  }

  private pushPresence(userId: number): void {
    const p = this.presenceOf(userId);
    const key = `${p.state}|${p.statusText ?? ''}`;
    if (this.lastPresence.get(userId) === key) return;
    this.lastPresence.set(userId, key);
    const event: LinkEvent = { type: 'presence', presence: p };
    for (const s of [userId, ...this.repo.subscribersOf(userId)]) this.deliverEvent(s, event);
    this.presenceHook.emit(p);
  }

  /**
   * Gives an event to the user's links on this node, and leaves it for the
   * other nodes' tails when the user has links there too.
   */
  private deliverEvent(userId: number, event: LinkEvent, toOtherNodes = true): number {
    if (toOtherNodes && this.repo.hasLinksElsewhere(userId, this.nodeId))
      this.repo.insertNodeEvent(this.nodeId, userId, JSON.stringify(event), this.clock.now());
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
  requestContact(userId: number, targetId: number): 'requested' | 'approved' {
    this.requireUser(userId);
    this.requireUser(targetId);
    if (userId === targetId)
      throw new AppError('PRESENCE_INVALID_INPUT', 'you cannot add yourself as a contact', { field: 'contact' });
    const current = this.repo.subscription(userId, targetId);
    if (current === 'approved') return 'approved';
    if (this.repo.subscription(targetId, userId) === 'requested') {
      this.approveContact(userId, targetId);
      return 'approved';
    }
    this.repo.upsertSubscription(userId, targetId, 'requested', this.clock.now());
    this.deliverEvent(targetId, { type: 'contact-request', fromUserId: userId });
    return 'requested';
  }

  /** Approves `fromUserId`'s request: both now see each other. */
  approveContact(userId: number, fromUserId: number): void {
    if (this.repo.subscription(fromUserId, userId) !== 'requested')
      throw new AppError('PRESENCE_REQUEST_NOT_FOUND', 'there is no contact request from that user');
    const now = this.clock.now();
    this.repo.transaction(() => {
      this.repo.upsertSubscription(fromUserId, userId, 'approved', now);
      this.repo.upsertSubscription(userId, fromUserId, 'approved', now);
    });
    this.deliverEvent(fromUserId, { type: 'presence', presence: this.presenceOf(userId) });
    this.deliverEvent(userId, { type: 'presence', presence: this.presenceOf(fromUserId) });
  }

  declineContact(userId: number, fromUserId: number): void {
    if (this.repo.subscription(fromUserId, userId) !== 'requested')
      throw new AppError('PRESENCE_REQUEST_NOT_FOUND', 'there is no contact request from that user');
    this.repo.deleteSubscription(fromUserId, userId);
  }

  removeContact(userId: number, otherId: number): void {
    this.repo.transaction(() => {
      this.repo.deleteSubscription(userId, otherId);
      this.repo.deleteSubscription(otherId, userId);
    });
  }

  isContact(userId: number, otherId: number): boolean {
    return this.repo.subscription(userId, otherId) === 'approved';
  }

  /** The buddy list: each contact with their presence (hidden until they approve). */
  contacts(userId: number): Contact[] {
    const out: Contact[] = [];
    for (const s of this.repo.subscriptionsOf(userId)) {
      const u = this.accounts.userById(s.targetId);
      if (!u) continue;
      out.push({
        userId: u.id,
        username: u.username,
        displayName: u.displayName,
        subscription: s.state,
        presence: s.state === 'approved' ? this.presenceOf(u.id) : { userId: u.id, state: 'offline', statusText: null },
      });
    }
    return out;
  }

  contactRequests(userId: number): ContactRequest[] {
    const out: ContactRequest[] = [];
    for (const r of this.repo.requestsTo(userId)) {
      const u = this.accounts.userById(r.fromUserId);
      if (u) out.push({ fromUserId: u.id, username: u.username, displayName: u.displayName, createdAt: r.createdAt });
    }
    return out;
  }

  // ---- IM sessions (the controller) ----------------------------------------------------

  createSession(ownerId: number, inviteeIds: number[]): ImSession {
    this.requireUser(ownerId);
    if (!Array.isArray(inviteeIds) || inviteeIds.length === 0)
      throw new AppError('PRESENCE_INVALID_INPUT', 'invite at least one contact', { field: 'invitees' });
    const invitees = [...new Set(inviteeIds)];
    if (invitees.length > 50)
      throw new AppError('PRESENCE_INVALID_INPUT', 'a session has at most 50 invitees', { field: 'invitees' });
    for (const id of invitees) this.checkInvitee(ownerId, id);
    const id = randomUUID();
    this.repo.insertSession(id, ownerId, invitees, this.clock.now());
    const session = this.repo.session(id) as ImSession;
    this.log.info({ session: id, owner: ownerId, invitees }, 'session created');
    for (const u of invitees) this.announceInvite(session, ownerId, u);
    return session;
  }

  invite(sessionId: string, byUserId: number, inviteeId: number): ImSession {
    this.requireJoined(sessionId, byUserId);
    this.checkInvitee(byUserId, inviteeId);
    const state = this.repo.memberState(sessionId, inviteeId);
    if (state === 'joined' || state === 'invited') return this.repo.session(sessionId) as ImSession;
    this.repo.setMember(sessionId, inviteeId, 'invited', byUserId, this.clock.now());
    const session = this.repo.session(sessionId) as ImSession;
    this.memberChanged(session, inviteeId, 'invited');
    this.announceInvite(session, byUserId, inviteeId);
    return session;
  }

  accept(sessionId: string, userId: number): ImSession {
    return this.answer(sessionId, userId, 'joined');
  }

  decline(sessionId: string, userId: number): ImSession {
    return this.answer(sessionId, userId, 'declined');
  }

  leave(sessionId: string, userId: number): ImSession {
    const state = this.memberOrThrow(sessionId, userId);
    if (state === 'left' || state === 'declined') return this.repo.session(sessionId) as ImSession;
    this.repo.setMember(sessionId, userId, 'left', null, this.clock.now());
    const session = this.repo.session(sessionId) as ImSession;
    this.memberChanged(session, userId, 'left');
    return session;
  }

  private answer(sessionId: string, userId: number, to: 'joined' | 'declined'): ImSession {
    const state = this.memberOrThrow(sessionId, userId);
    if (state === to) return this.repo.session(sessionId) as ImSession;
    if (state !== 'invited')
      throw new AppError('PRESENCE_NOT_INVITED', `you have no open invitation to this session (you ${state} it)`);
    this.repo.setMember(sessionId, userId, to, null, this.clock.now());
    const session = this.repo.session(sessionId) as ImSession;
    this.memberChanged(session, userId, to);
    return session;
  }

  /**
   * A session whose controller is in another community (federation): its id
   * and membership come from there, so there is no contact check here. The
   * owner (the remote inviter's local stand-in) is joined; invitees invited.
   */
  createSessionFromPeer(id: string, ownerId: number, inviteeIds: number[]): ImSession {
    this.requireUser(ownerId);
    for (const u of inviteeIds) this.requireUser(u);
    this.repo.insertSession(id, ownerId, inviteeIds, this.clock.now());
    const session = this.repo.session(id) as ImSession;
    this.log.info({ session: id, owner: ownerId, invitees: inviteeIds }, 'session created by a peer');
    for (const u of inviteeIds) this.announceInvite(session, ownerId, u);
    return session;
  }

  /**
   * Sets a member's state as another community reports it (a remote member
   * invited, joined, declined or left); no contact check, no inviter rules.
   */
  setMemberFromPeer(
    sessionId: string,
    userId: number,
    state: SessionMember['state'],
    byUserId: number | null,
  ): ImSession {
    this.requireUser(userId);
    if (!this.repo.session(sessionId)) throw new AppError('PRESENCE_SESSION_NOT_FOUND', 'no such session');
    const before = this.repo.memberState(sessionId, userId);
    if (before === state) return this.repo.session(sessionId) as ImSession;
    this.repo.setMember(sessionId, userId, state, state === 'invited' ? byUserId : null, this.clock.now());
    const session = this.repo.session(sessionId) as ImSession;
    this.memberChanged(session, userId, state);
    if (state === 'invited' && byUserId !== null) this.announceInvite(session, byUserId, userId);
    return session;
  }

  /** A session the user is or was a member of. */
  session(sessionId: string, userId: number): ImSession {
    this.memberOrThrow(sessionId, userId);
    return this.repo.session(sessionId) as ImSession;
  }

  /** The sessions a user is invited to or has joined, newest first. */
  sessionsOf(userId: number): ImSession[] {
    return this.repo.sessionIdsOf(userId, ['invited', 'joined']).map((id) => this.repo.session(id) as ImSession);
  }

  members(sessionId: string): SessionMember[] {
    const s = this.repo.session(sessionId);
    if (!s) throw new AppError('PRESENCE_SESSION_NOT_FOUND', 'no such session');
    return s.members;
  }

  private checkInvitee(byUserId: number, inviteeId: number): void {
    if (!Number.isInteger(inviteeId) || !this.accounts.userById(inviteeId))
      throw new AppError('PRESENCE_USER_NOT_FOUND', `no user ${String(inviteeId)}`);
    if (inviteeId === byUserId)
      throw new AppError('PRESENCE_INVALID_INPUT', 'you cannot invite yourself', { field: 'invitees' });
    if (!this.isContact(byUserId, inviteeId))
      throw new AppError('PRESENCE_NOT_CONTACT', 'only approved contacts can be invited');
  }

  private announceInvite(session: ImSession, inviterId: number, inviteeId: number): void {
    const n = this.deliverEvent(inviteeId, { type: 'invite', session, inviterId });
    this.invitedHook.emit({ session, inviterId, inviteeId, isReachable: n > 0 || this.hasLinkAnywhere(inviteeId) });
  }

  private memberChanged(session: ImSession, userId: number, state: SessionMember['state']): void {
    this.log.info({ session: session.id, user: userId, state }, 'member changed');
    this.memberHook.emit({ session, userId, state });
    for (const m of session.members)
      if (m.state === 'joined' || m.state === 'invited' || m.userId === userId)
        this.deliverEvent(m.userId, { type: 'member', sessionId: session.id, userId, state });
  }

  private memberOrThrow(sessionId: string, userId: number): SessionMember['state'] {
    const state = typeof sessionId === 'string' ? this.repo.memberState(sessionId, userId) : null;
    if (!state) throw new AppError('PRESENCE_SESSION_NOT_FOUND', 'no such session');
    return state;
  }

  private requireJoined(sessionId: string, userId: number): void {
    const state = this.memberOrThrow(sessionId, userId);
    if (state !== 'joined')
      throw new AppError(
        'PRESENCE_NOT_MEMBER',
        state === 'invited' ? 'accept the invitation first' : 'you are no longer a member of this session',
      );
  }

  private requireUser(userId: number): void {
    if (!Number.isInteger(userId) || !this.accounts.userById(userId))
      throw new AppError('PRESENCE_USER_NOT_FOUND', `no user ${String(userId)}`);
  }

  // ---- messages --------------------------------------------------------------------

  /** Checks, stores (durably) and routes a message; resolves with it after the commit. */
  async postMessage(input: PostMessageInput, options: { viaLinkId?: string } = {}): Promise<StoredMessage> {
    if (this.closed) throw new AppError('PRESENCE_CLOSED', 'the presence server is shutting down');
    if (typeof input !== 'object' || input === null)
      throw new AppError('PRESENCE_INVALID_INPUT', 'a message needs a session, a sender and a body');
    const { sessionId, fromUserId } = input;
    if (typeof sessionId !== 'string' || sessionId.length > 64)
      throw new AppError('PRESENCE_SESSION_NOT_FOUND', 'no such session');
    const members = this.repo.membership(sessionId);
    const senderState = members.find((m) => m.userId === fromUserId)?.state;
    if (!senderState) throw new AppError('PRESENCE_SESSION_NOT_FOUND', 'no such session');
    if (senderState !== 'joined')
      throw new AppError(
        'PRESENCE_NOT_MEMBER',
        senderState === 'invited' ? 'accept the invitation first' : 'you are no longer a member of this session',
      );
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
    const recipients = members
      .filter((m) => m.userId !== fromUserId && (m.state === 'invited' || m.state === 'joined'))
      .map((m) => m.userId);
    const message = await this.cache.append({ sessionId, fromUserId, kind, text, audioId, audioUrl, recipients });
    this.route(message, recipients, options.viaLinkId);
    return message;
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

  private route(message: StoredMessage, recipients: number[], viaLinkId?: string): void {
    const info: MessageStoredEvent['recipients'] = [];
    const unreachable: number[] = [];
    for (const r of recipients) {
      const links = this.localLinks(r);
      for (const l of links) this.sendTo(l, message, true);
      const kinds = links.length > 0 ? links.map((l) => l.kind) : this.repo.linkKinds(r);
      info.push({ userId: r, hasLink: kinds.length > 0, hasPhoneLink: kinds.includes('phone') });
      if (kinds.length === 0) unreachable.push(r);
    }
    for (const l of this.localLinks(message.fromUserId))
      if (l.id !== viaLinkId) this.deliverEvent2(l, { type: 'message', message });
    this.metrics?.messageStored(message.kind);
    this.storedHook.emit({ message, recipients: info });
    for (const r of unreachable) this.unreachableHook.emit({ recipientId: r, message });
  }

  private deliverEvent2(link: OpenLink, event: LinkEvent): void {
    try {
      link.deliver(event);
    } catch (e) {
      this.log.warn({ err: e, link: link.id }, 'a link refused an event');
    }
  }

  /** Whether the user has a link on any node of the community (not only this one). */
  hasLinkAnywhere(userId: number): boolean {
    return this.localLinks(userId).length > 0 || this.repo.linkKinds(userId).length > 0;
  }

  /** Gives this node's links the events other nodes left for them. */
  routeForeignEvents(): number {
    let n = 0;
    for (;;) {
      const batch = this.repo.nodeEvents(this.eventsFrom, this.nodeId, 500);
      if (batch.length === 0) return n;
      for (const e of batch) {
        this.eventsFrom = e.id;
        this.deliverEvent(e.recipientId, JSON.parse(e.event) as LinkEvent, false);
        n++;
      }
    }
  }

  /** Routes messages that other nodes committed to this node's links. */
  routeForeign(): number {
    let n = 0;
    for (;;) {
      const batch = this.repo.foreignMessages(this.tailFrom, this.nodeId, 500);
      if (batch.length === 0) {
        this.tailFrom = Math.max(this.tailFrom, this.repo.maxMessageId());
        return n;
      }
      for (const m of batch) {
        this.tailFrom = Number(m.id);
        const recipients = this.repo.recipients(m.sessionId, m.fromUserId);
        for (const r of recipients) for (const l of this.localLinks(r)) this.sendTo(l, m);
        for (const l of this.localLinks(m.fromUserId)) this.deliverEvent2(l, { type: 'message', message: m });
        n++;
      }
    }
  }

  private scheduleTail(): void {
    this.tailTimer = this.clock.setTimeout(() => {
      try {
        if (this.links.size > 0) {
          this.routeForeign();
          this.routeForeignEvents();
        } else {
          this.tailFrom = Math.max(this.tailFrom, this.repo.maxMessageId());
          this.eventsFrom = Math.max(this.eventsFrom, this.repo.maxNodeEventId());
        }
        // Events are for nodes that are up: a few minutes is plenty.
        if (++this.tailRuns % 240 === 0) this.repo.deleteNodeEventsBefore(this.clock.now() - 600_000);
      } catch (e) {
        this.log.error({ err: e }, 'routing other nodes’ messages failed');
      }
      if (!this.closed) this.scheduleTail();
    }, this.tailIntervalMs);
  }

  /** Messages no link took (delivery pending), stored since `since`: what the notifier picks up on start. */
  pendingDeliveries(since: number, limit: number): { recipientId: number; message: StoredMessage }[] {
    return this.repo.pendingDeliveries(since, limit);
  }

  /** Messages not yet read by the user (pending, notified or delivered), oldest first. */
  unread(userId: number, sessionId?: string): StoredMessage[] {
    return this.repo.messagesFor(
      userId,
      ['pending', 'notified', 'delivered'],
      sessionId === undefined ? {} : { sessionId },
    );
  }

  /** A session's messages, oldest first: after `afterId`, or the latest `limit`. */
  history(userId: number, sessionId: string, options: { afterId?: string; limit?: number } = {}): StoredMessage[] {
    this.memberOrThrow(sessionId, userId);
    // A member who left or declined reads up to that moment, nothing after.
    const until = this.repo.readUntil(sessionId, userId) ?? undefined;
    const limit = Math.min(Math.max(1, options.limit ?? 50), 500);
    if (options.afterId !== undefined)
      return this.repo.history(sessionId, this.messageId(options.afterId), limit, until);
    return this.repo.recent(sessionId, limit, until);
  }

  /** Marks messages read; returns the ids that changed (unknown and others' ids are ignored). */
  markRead(userId: number, messageIds: string[]): string[] {
    return this.advance(userId, messageIds, 'read');
  }

  /** The notifier records that it reached the user about these messages. */
  markNotified(userId: number, messageIds: string[]): string[] {
    return this.advance(userId, messageIds, 'notified');
  }

  private advance(userId: number, messageIds: string[], to: DeliveryState): string[] {
    if (!Array.isArray(messageIds) || messageIds.length > 1000)
      throw new AppError('PRESENCE_INVALID_INPUT', 'give a list of at most 1000 message ids', { field: 'messageIds' });
    const ids = messageIds.map((id) => this.messageId(id));
    const changed = this.repo.advanceDeliveries(userId, ids, to, this.clock.now()).map(String);
    if (to === 'read' && changed.length > 0) {
      this.readHook.emit({ userId, messageIds: changed });
      this.deliverEvent(userId, { type: 'read', userId, messageIds: changed });
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
  deliveryStates(messageId: string): { recipientId: number; state: DeliveryState }[] {
    const id = this.messageId(messageId);
    return this.repo
      .deliveryStates(id)
      .map((d) =>
        (d.state === 'pending' || d.state === 'notified') && this.cache.isDeliveredUnsettled(d.recipientId, id)
          ? { ...d, state: 'delivered' as const }
          : d,
      );
  }

  message(messageId: string): StoredMessage | null {
    return this.repo.message(this.messageId(messageId));
  }
}
