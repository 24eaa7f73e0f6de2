/**
 * Federation: this community's part in sessions that span communities.
 *
 * Rules:
 * - An address is user@community. A local part that starts with '+' is a
 *   phone number (the user whose caller ID it is).
 * - A remote member takes part in a local IM session through a local
 *   stand-in account (no password, PIN or caller ID, so it can never log on),
 *   mapped to its address in federation's own table. The presence service
 *   treats it as any member; this service relays what concerns it to its home
 *   community, and the notifier leaves it alone (it is reached at home).
 * - The session's id is the same on every server. Its controller is the
 *   community of its owner; every community applies the membership it is told.
 * - Each community sends what its own subscribers do (messages, joins,
 *   declines, leaves, invitations they make) to every peer that hosts a member
 *   of the session, and nothing it received from a peer: no event travels two
 *   hops, so none arrives twice by two paths.
 * - What a peer may ask: only actions of its own subscribers (a message or an
 *   answer from user@peer), and only on sessions it hosts a member of; an
 *   invitation is the exception that creates the session here. A peer never
 *   changes the state of one of our own users.
 * - Outbound events go through a durable queue per peer (outbox.ts); inbound
 *   events are applied once each, by event id.
 */
import { createHash, type KeyObject, randomUUID } from 'node:crypto';
import type { AccountService } from '../accounts/account-service.js';
import type { User } from '../accounts/types.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { PresenceService } from '../presence/presence-service.js';
import type { ImSession, MemberChangedEvent, SessionMember, StoredMessage } from '../presence/types.js';
import { type CommunityKey, parsePublicKey } from './keys.js';
import { Outbox, type PeerClient } from './outbox.js';
import type { FederationStore, Peer, RemoteMember } from './ports.js';

export type MemberState = SessionMember['state'];

/** The events communities exchange (each with a globally unique id). */
export type FedEvent =
  | {
      id: string;
      type: 'invite';
      sessionId: string;
      from: string;
      fromName: string;
      community: string;
      to: string;
      members: { address: string; name: string; state: MemberState }[];
    }
  | { id: string; type: 'member'; sessionId: string; address: string; name: string; state: MemberState; by?: string }
  | {
      id: string;
      type: 'message';
      sessionId: string;
      from: string;
      fromName: string;
      text: string | null;
      audioUrl: string | null;
      at: number;
    };

const ADDRESS = /^([A-Za-z0-9._+-]{1,64})@([a-z0-9.-]{1,253})$/;
const STATES: ReadonlySet<string> = new Set(['invited', 'joined', 'declined', 'left']);

export function parseAddress(address: unknown): { local: string; domain: string } {
  const m = typeof address === 'string' ? ADDRESS.exec(address.trim()) : null;
  if (!m)
    throw new AppError('FEDERATION_INVALID_INPUT', 'an address is user@community (or +15550100101@community)', {
      field: 'address',
    });
  return { local: (m[1] as string).toLowerCase(), domain: m[2] as string };
}

export interface FederationDeps {
  store: FederationStore;
  presence: PresenceService;
  accounts: AccountService;
  config: Pick<Config, 'federation'>;
  clock: Clock;
  log: Logger;
  key: CommunityKey;
  /** The URL peers reach us at (federation.publicUrl, else the HTTP server's). */
  baseUrl: () => string;
  client: PeerClient;
  /** Where the audio of a remote voice message is kept: fetched once from the peer's signed URL. */
  audio?: RemoteAudioPort;
}

/** The audio file server, as federation uses it. */
export interface RemoteAudioPort {
  storeRecording(input: { data: Buffer; userId: number; sessionId?: string }): Promise<{ id: string; wavUrl: string }>;
}

/** The largest voice message audio fetched from a peer. */
const MAX_AUDIO_BYTES = 16 * 1024 * 1024;

export class FederationService {
  readonly domain: string;
  readonly displayName: string;
  readonly outbox: Outbox;
  private readonly deps: FederationDeps;
  private readonly log: Logger;
  /** Remote members by local user id: read on every message, so kept in memory (the table is the truth). */
  private readonly remoteByUser = new Map<number, RemoteMember>();
  private inbound: Promise<unknown> = Promise.resolve();
  private offs: (() => void)[] = [];

  constructor(deps: FederationDeps) {
    this.deps = deps;
    this.domain = deps.config.federation.domain;
    this.displayName = deps.config.federation.displayName ?? this.domain;
    this.log = deps.log;
    this.outbox = new Outbox({
      store: deps.store,
      client: deps.client,
      clock: deps.clock,
      log: deps.log,
      config: deps.config.federation,
    });
  }

  async start(): Promise<void> {
    for (const m of await this.deps.store.remoteMembers()) this.remoteByUser.set(m.userId, m);
    const { presence } = this.deps;
    this.offs = [
      presence.onMessageStored(({ message, recipients }) => this.relayMessage(message, recipients)),
      presence.onMemberChanged((e) => this.relayMember(e)),
    ];
    await this.outbox.start();
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    await this.outbox.stop();
    await this.inbound.catch(() => undefined);
  }

  whoami(): { name: string; displayName: string; url: string; publicKey: string } {
    return {
      name: this.domain,
      displayName: this.displayName,
      url: this.deps.baseUrl(),
      publicKey: this.deps.key.publicKey,
    };
  }

  /** Whether a local account stands for a remote member. */
  isRemote(userId: number): boolean {
    return this.remoteByUser.has(userId);
  }

  // ---- peers (phonectl peer ...) -----------------------------------------------------

  async addPeer(input: { name: unknown; url: unknown; publicKey: unknown }): Promise<Peer> {
    const name = typeof input.name === 'string' ? input.name.trim().toLowerCase() : '';
    if (!/^[a-z0-9.-]{1,253}$/.test(name) || name === this.domain)
      throw new AppError('FEDERATION_INVALID_INPUT', 'a peer is named by its community domain (not ours)', {
        field: 'name',
      });
    const url = typeof input.url === 'string' ? input.url.trim().replace(/\/+$/, '') : '';
    if (!/^https?:\/\//.test(url) || !URL.canParse(url))
      throw new AppError('FEDERATION_INVALID_INPUT', 'the peer URL must be an http(s) URL', { field: 'url' });
    parsePublicKey(input.publicKey);
    const peer = await this.deps.store.putPeer(
      { name, baseUrl: url, publicKey: input.publicKey as string },
      this.deps.clock.now(),
    );
    this.log.info({ peer: name, url }, 'peer added');
    return peer;
  }

  async peers(): Promise<(Peer & { queued: number })[]> {
    const out = [];
    for (const p of await this.deps.store.peers())
      out.push({ ...p, queued: await this.deps.store.queueLength(p.name) });
    return out;
  }

  async peer(name: string): Promise<Peer & { queued: number }> {
    const p = await this.deps.store.peer(name);
    if (!p) throw new AppError('FEDERATION_PEER_NOT_FOUND', `no peer "${name}"`);
    return { ...p, queued: await this.deps.store.queueLength(p.name) };
  }

  async removePeer(name: string): Promise<void> {
    if (!(await this.deps.store.removePeer(name))) throw new AppError('FEDERATION_PEER_NOT_FOUND', `no peer "${name}"`);
    this.log.info({ peer: name }, 'peer removed');
  }

  /** A signed round trip to the peer; resolves with its name and the time it took. */
  async ping(name: string): Promise<{ peer: string; ms: number }> {
    const peer = await this.peer(name);
    const t0 = Date.now();
    const answer = (await this.deps.client.post(peer, '/federation/v1/ping', {})) as { name?: unknown };
    if (answer?.name !== this.domain && answer?.name !== peer.name)
      throw new AppError('FEDERATION_PEER_REFUSED', `${name} answered as someone else`);
    await this.deps.store.peerResult(peer.name, this.deps.clock.now(), null);
    return { peer: peer.name, ms: Date.now() - t0 };
  }

  // ---- addresses and remote members --------------------------------------------------

  /** The address of a local user or of a remote member's stand-in. */
  addressOf(user: User): string {
    return this.remoteByUser.get(user.id)?.address ?? `${user.username}@${this.domain}`;
  }

  private async localUser(local: string): Promise<User | null> {
    if (local.startsWith('+')) return await this.deps.accounts.lookupCaller(local);
    const u = await this.deps.accounts.findUser(local);
    return u && !this.remoteByUser.has(u.id) ? u : null;
  }

  /** The local stand-in of a remote address, made on first sight. */
  private async standIn(address: string, name: string, community: string): Promise<number> {
    const { domain } = parseAddress(address);
    const known = await this.deps.store.remoteMember(address);
    if (known) {
      this.remoteByUser.set(known.userId, known);
      return known.userId;
    }
    const safeName = name.replace(/[^\p{L}\p{N} .'-]/gu, '').slice(0, 60) || address.split('@')[0] || 'Someone';
    const user = await this.deps.accounts.createUser({
      username: `fed-${createHash('sha256').update(address).digest('hex').slice(0, 24)}`,
      displayName: `${safeName} (${domain})`,
      spokenName: `${safeName} from ${community.replace(/[^\p{L}\p{N} .'-]/gu, '').slice(0, 60) || domain}`,
    });
    const member = { address, userId: user.id, peer: domain };
    await this.deps.store.addRemoteMember(member);
    this.remoteByUser.set(user.id, member);
    return user.id;
  }

  // ---- what our users do -------------------------------------------------------------

  /**
   * A local user invites remote users (by address) into a new session, or
   * into one they joined: the session is created here (we are its controller)
   * and each invitee's community is asked.
   */
  async invite(byUserId: number, addresses: unknown, sessionId?: string): Promise<ImSession> {
    const { presence, accounts, config } = this.deps;
    const by = await accounts.userById(byUserId);
    if (!by || this.isRemote(byUserId)) throw new AppError('PRESENCE_USER_NOT_FOUND', 'no such user');
    if (!Array.isArray(addresses) || addresses.length === 0 || addresses.length > 50)
      throw new AppError('FEDERATION_INVALID_INPUT', 'invite one to 50 addresses', { field: 'to' });
    const targets = [...new Set(addresses.map((a) => parseAddress(a)))].map((a) => `${a.local}@${a.domain}`);
    for (const t of targets) {
      const { domain } = parseAddress(t);
      if (domain === this.domain)
        throw new AppError('FEDERATION_INVALID_INPUT', `${t} is one of ours: invite local users directly`, {
          field: 'to',
        });
      if (!(await this.deps.store.peer(domain)))
        throw new AppError('FEDERATION_PEER_NOT_FOUND', `${domain} is not a peer community of ours`);
    }
    const existing = sessionId ? (await presence.members(sessionId)).filter((m) => m.state !== 'left') : [];
    if (existing.length + targets.length + (sessionId ? 0 : 1) > config.federation.maxMembersPerSession)
      throw new AppError(
        'FEDERATION_SESSION_FULL',
        `a session has at most ${config.federation.maxMembersPerSession} members`,
      );
    const ids: number[] = [];
    for (const t of targets) ids.push(await this.standIn(t, t.split('@')[0] as string, parseAddress(t).domain));
    let session: ImSession;
    if (sessionId) {
      await presence.session(sessionId, byUserId);
      for (const id of ids) await presence.setMemberFromPeer(sessionId, id, 'invited', byUserId);
      session = await presence.session(sessionId, byUserId);
    } else {
      session = await presence.createSessionFromPeer(randomUUID(), byUserId, ids);
    }
    const members: { address: string; name: string; state: MemberState }[] = [];
    for (const m of session.members) {
      const u = await accounts.userById(m.userId);
      members.push({ address: this.addressOf(u as User), name: u?.displayName ?? 'Someone', state: m.state });
    }
    const now = this.deps.clock.now();
    for (const t of targets) {
      const event: FedEvent = {
        id: randomUUID(),
        type: 'invite',
        sessionId: session.id,
        from: this.addressOf(by),
        fromName: by.spokenName,
        community: this.displayName,
        to: t,
        members,
      };
      await this.outbox.enqueue(parseAddress(t).domain, [event], now);
    }
    if (sessionId) {
      // The other communities in the session learn of the new members (their own invitations went above).
      for (const t of targets) {
        const event: FedEvent = {
          id: randomUUID(),
          type: 'member',
          sessionId: session.id,
          address: t,
          name: t.split('@')[0] as string,
          state: 'invited',
        };
        for (const p of this.peersOf(session.members, parseAddress(t).domain))
          await this.outbox.enqueue(p, [event], now);
      }
    }
    this.log.info({ session: session.id, user: byUserId, to: targets }, 'remote users invited');
    return session;
  }

  /** A session as its members' addresses and states. */
  async view(
    session: ImSession,
  ): Promise<{ id: string; members: { userId: number; address: string; state: MemberState }[] }> {
    const members: { userId: number; address: string; state: MemberState }[] = [];
    for (const m of session.members) {
      const u = await this.deps.accounts.userById(m.userId);
      members.push({ userId: m.userId, address: u ? this.addressOf(u) : '', state: m.state });
    }
    return { id: session.id, members };
  }

  /** The peers hosting members (not left or declined) of a session, except `except`. */
  private peersOf(members: SessionMember[], except?: string): string[] {
    const out = new Set<string>();
    for (const m of members) {
      const r = this.remoteByUser.get(m.userId);
      if (r && r.peer !== except && (m.state === 'joined' || m.state === 'invited')) out.add(r.peer);
    }
    return [...out];
  }

  /** How the peers of a session know one of our users: the alias they invited, else user@domain. */
  private async sessionAddress(sessionId: string, user: User): Promise<string> {
    return (await this.deps.store.aliasOf(sessionId, user.id)) ?? this.addressOf(user);
  }

  private relayMessage(message: StoredMessage, recipients: { userId: number }[]): void {
    if (this.isRemote(message.fromUserId)) return;
    // The recipients are the session's invited and joined members: with no remote one, no peer to tell.
    if (!recipients.some((r) => this.isRemote(r.userId))) return;
    this.relayMessageNow(message).catch((e: unknown) => {
      this.log.error({ err: e, message: message.id }, 'could not queue a message for peers');
    });
  }

  private async relayMessageNow(message: StoredMessage): Promise<void> {
    const members = await this.deps.presence.members(message.sessionId);
    const peers = this.peersOf(members);
    if (peers.length === 0) return;
    const from = await this.deps.accounts.userById(message.fromUserId);
    if (!from) return;
    const event: FedEvent = {
      id: `${this.domain}/m/${message.id}`,
      type: 'message',
      sessionId: message.sessionId,
      from: await this.sessionAddress(message.sessionId, from),
      fromName: from.spokenName,
      text: message.text,
      audioUrl: message.audioUrl,
      at: message.createdAt,
    };
    const now = this.deps.clock.now();
    for (const p of peers) await this.outbox.enqueue(p, [event], now);
  }

  private relayMember(e: MemberChangedEvent): void {
    // What a peer told us is not passed on; invitations of remote users are sent by invite().
    if (this.isRemote(e.userId)) return;
    this.relayMemberNow(e).catch((err: unknown) => {
      this.log.error({ err, session: e.session.id }, 'could not queue a member change for peers');
    });
  }

  private async relayMemberNow(e: MemberChangedEvent): Promise<void> {
    const user = await this.deps.accounts.userById(e.userId);
    if (!user) return;
    const peers = this.peersOf(e.session.members);
    const event: FedEvent = {
      id: randomUUID(),
      type: 'member',
      sessionId: e.session.id,
      address: await this.sessionAddress(e.session.id, user),
      name: user.spokenName,
      state: e.state,
    };
    const now = this.deps.clock.now();
    for (const p of peers) await this.outbox.enqueue(p, [event], now);
  }

  // ---- what peers tell us ------------------------------------------------------------

  /**
   * Applies a peer's batch of events in order, each once. Resolves with how
   * many were applied; a refused event throws (the events before it stay applied).
   */
  receive(peer: string, body: unknown): Promise<{ applied: number; duplicates: number }> {
    const run = this.inbound.then(() => this.receiveNow(peer, body));
    this.inbound = run.catch(() => undefined);
    return run;
  }

  private async receiveNow(peer: string, body: unknown): Promise<{ applied: number; duplicates: number }> {
    const events = (body as { events?: unknown } | null)?.events;
    if (!Array.isArray(events) || events.length === 0 || events.length > 1000)
      throw new AppError('FEDERATION_BAD_REQUEST', 'the body must be {"events": [...]} with 1 to 1000 events');
    let applied = 0;
    let duplicates = 0;
    // Messages are handed to the message cache one after the other without waiting for each commit
    // (the cache keeps their order and commits them together); each is recorded as received once committed.
    let pending: { id: string; stored: Promise<unknown> }[] = [];
    const flush = async () => {
      const batch = pending;
      pending = [];
      const results = await Promise.allSettled(batch.map((p) => p.stored));
      for (const [i, r] of results.entries()) {
        const id = (batch[i] as { id: string }).id;
        if (r.status === 'rejected') throw withEvent(r.reason, id);
        await this.deps.store.markReceived(peer, id, this.deps.clock.now());
        applied++;
      }
    };
    for (const raw of events) {
      const event = checkEvent(raw);
      if (await this.deps.store.wasReceived(peer, event.id)) {
        duplicates++;
        continue;
      }
      try {
        if (event.type === 'message') {
          pending.push({ id: event.id, ...(await this.applyMessage(peer, event)) });
          continue;
        }
        await flush();
        await this.apply(peer, event);
      } catch (e) {
        await flush().catch(() => undefined);
        throw withEvent(e, event.id);
      }
      await this.deps.store.markReceived(peer, event.id, this.deps.clock.now());
      applied++;
    }
    await flush();
    return { applied, duplicates };
  }

  private forbidden(message: string): AppError {
    return new AppError('FEDERATION_FORBIDDEN', message);
  }

  /** The peer must host a member (joined or invited, or who answered) of the session. */
  private checkHosts(peer: string, members: SessionMember[]): void {
    if (!members.some((m) => this.remoteByUser.get(m.userId)?.peer === peer))
      throw this.forbidden(`${peer} hosts no member of this session`);
  }

  private async apply(peer: string, event: Exclude<FedEvent, { type: 'message' }>): Promise<void> {
    const { presence } = this.deps;
    const log = this.log.child({ peer, session: event.sessionId, event: event.id });
    if (event.type === 'invite') {
      if (parseAddress(event.from).domain !== peer) throw this.forbidden(`${peer} may only act for its own users`);
      const { local, domain } = parseAddress(event.to);
      if (domain !== this.domain) throw this.forbidden(`${event.to} is not a user of ${this.domain}`);
      if (event.members.length > this.deps.config.federation.maxMembersPerSession)
        throw new AppError('FEDERATION_SESSION_FULL', 'the session has too many members');
      const invitee = await this.localUser(local);
      const known = await this.sessionExists(event.sessionId);
      if (known) this.checkHosts(peer, await presence.members(event.sessionId));
      if (!invitee) {
        log.warn({ to: event.to }, 'invitation for an unknown user: declined');
        await this.outbox.enqueue(
          peer,
          [
            {
              id: randomUUID(),
              type: 'member',
              sessionId: event.sessionId,
              address: event.to,
              name: event.to,
              state: 'declined',
            },
          ],
          this.deps.clock.now(),
        );
        return;
      }
      if (event.to !== `${invitee.username}@${this.domain}`)
        await this.deps.store.setAlias(event.sessionId, invitee.id, event.to);
      const inviter = await this.standIn(event.from, event.fromName, event.community);
      if (!known) await presence.createSessionFromPeer(event.sessionId, inviter, [invitee.id]);
      else await presence.setMemberFromPeer(event.sessionId, invitee.id, 'invited', inviter);
      for (const m of event.members) {
        const a = parseAddress(m.address);
        if (a.domain === this.domain || m.address === event.from) continue;
        const id = await this.standIn(m.address, m.name, a.domain);
        await presence.setMemberFromPeer(event.sessionId, id, m.state, null);
      }
      log.info({ from: event.from, to: event.to }, 'invitation from a peer');
      return;
    }
    if (!(await this.sessionExists(event.sessionId))) throw this.forbidden('no such session here');
    const members = await presence.members(event.sessionId);
    this.checkHosts(peer, members);
    if (event.type === 'member') {
      const { domain } = parseAddress(event.address);
      if (domain === this.domain) throw this.forbidden(`${peer} may not change the state of our users`);
      const owner = await this.sessionOwnerPeer(event.sessionId, members);
      if (domain !== peer && owner !== peer)
        throw this.forbidden(`${peer} may only act for its own users in a session it does not control`);
      const id = await this.standIn(event.address, event.name, domain);
      await presence.setMemberFromPeer(event.sessionId, id, event.state, null);
      log.info({ address: event.address, state: event.state }, 'member changed at a peer');
      return;
    }
    throw new AppError('FEDERATION_BAD_REQUEST', 'unknown event type');
  }

  /** Checks a message event and hands it to the message cache; resolves with the commit to wait for. */
  private async applyMessage(
    peer: string,
    event: Extract<FedEvent, { type: 'message' }>,
  ): Promise<{ stored: Promise<unknown> }> {
    const { presence } = this.deps;
    if (!(await this.sessionExists(event.sessionId))) throw this.forbidden('no such session here');
    const members = await presence.members(event.sessionId);
    this.checkHosts(peer, members);
    if (parseAddress(event.from).domain !== peer) throw this.forbidden(`${peer} may only act for its own users`);
    const sender = await this.deps.store.remoteMember(event.from);
    const state = sender ? members.find((m) => m.userId === sender.userId)?.state : undefined;
    if (!sender || state !== 'joined') throw this.forbidden(`${event.from} is not a joined member of this session`);
    const voice = event.audioUrl ? await this.fetchVoice(peer, event, sender.userId) : null;
    const stored = voice
      ? presence.postMessage({
          sessionId: event.sessionId,
          fromUserId: sender.userId,
          voice: { audioId: voice.id, url: voice.url, text: event.text ?? undefined },
        })
      : presence.postMessage({ sessionId: event.sessionId, fromUserId: sender.userId, text: event.text ?? '' });
    // Observed here so that a refusal is not an unhandled rejection before the batch waits for it.
    stored.catch(() => undefined);
    return { stored };
  }

  /**
   * The audio of a remote voice message, fetched once from the signed URL
   * the peer sent (only from that peer's own origin: a peer cannot make us
   * fetch anything else) and kept by our audio server, so our users play it
   * from us, with our signed URLs, whether or not the peer is up. When it
   * cannot be fetched the message keeps the peer's URL (logged).
   */
  private async fetchVoice(
    peer: string,
    event: Extract<FedEvent, { type: 'message' }>,
    userId: number,
  ): Promise<{ id: string; url: string }> {
    const url = event.audioUrl as string;
    const p = await this.deps.store.peer(peer);
    if (!p || !URL.canParse(url) || new URL(url).origin !== new URL(p.baseUrl).origin)
      throw this.forbidden(`${peer} may only point at audio on its own server`);
    const fallback = { id: event.id.slice(0, 128), url };
    if (!this.deps.audio) return fallback;
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(this.deps.config.federation.requestTimeoutMs),
        redirect: 'error',
      });
      if (!res.ok) throw new Error(`answered ${res.status}`);
      const data = Buffer.from(await res.arrayBuffer());
      if (data.length > MAX_AUDIO_BYTES) throw new Error('audio too large');
      const r = await this.deps.audio.storeRecording({ data, userId, sessionId: event.sessionId });
      return { id: r.id, url: r.wavUrl };
    } catch (e) {
      this.log.warn(
        { peer, event: event.id, err: (e as Error).message },
        'voice message audio not fetched; kept its URL',
      );
      return fallback;
    }
  }

  private async sessionExists(sessionId: string): Promise<boolean> {
    try {
      await this.deps.presence.members(sessionId);
      return true;
    } catch {
      return false;
    }
  }

  /** The community of the session's owner (its controller), when remote. */
  private async sessionOwnerPeer(sessionId: string, members: SessionMember[]): Promise<string | undefined> {
    const anyone = members[0];
    if (!anyone) return undefined;
    return this.remoteByUser.get((await this.deps.presence.session(sessionId, anyone.userId)).ownerId)?.peer;
  }

  /** A peer's public key for the signature check: active peers only. */
  async keyOf(peer: string): Promise<KeyObject | null> {
    const p = await this.deps.store.peer(peer);
    return p && p.state === 'active' ? parsePublicKey(p.publicKey) : null;
  }
}

/** An AppError that names the event it refused (the sender drops that one). */
function withEvent(e: unknown, eventId: string): unknown {
  return e instanceof AppError ? new AppError(e.code, e.message, { ...e.details, eventId }) : e;
}

/** Checks the shape of one event; FEDERATION_BAD_REQUEST otherwise. */
function checkEvent(raw: unknown): FedEvent {
  const bad = (why: string) => new AppError('FEDERATION_BAD_REQUEST', `malformed event: ${why}`);
  if (typeof raw !== 'object' || raw === null) throw bad('not an object');
  const e = raw as Record<string, unknown>;
  const str = (k: string, max = 512) => {
    const v = e[k];
    if (typeof v !== 'string' || v.length === 0 || v.length > max) throw bad(`${k} must be a string`);
    return v;
  };
  str('id', 200);
  str('sessionId', 64);
  if (e.type === 'invite') {
    str('from');
    str('fromName', 200);
    str('community', 200);
    str('to');
    if (!Array.isArray(e.members) || e.members.length > 1000) throw bad('members must be a list');
    for (const m of e.members as Record<string, unknown>[])
      if (typeof m?.address !== 'string' || typeof m.name !== 'string' || !STATES.has(String(m.state)))
        throw bad('a member needs an address, a name and a state');
    return e as FedEvent;
  }
  if (e.type === 'member') {
    str('address');
    str('name', 200);
    if (!STATES.has(String(e.state))) throw bad('state');
    return e as FedEvent;
  }
  if (e.type === 'message') {
    str('from');
    str('fromName', 200);
    if (e.text !== null && typeof e.text !== 'string') throw bad('text');
    if (e.audioUrl !== null && e.audioUrl !== undefined && typeof e.audioUrl !== 'string') throw bad('audioUrl');
    if (e.audioUrl === undefined) e.audioUrl = null;
    return e as FedEvent;
  }
  throw bad('unknown type');
}
