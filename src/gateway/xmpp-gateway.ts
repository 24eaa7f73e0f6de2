/**
 * The gateway to an outside IM service: a XEP-0114 component of an XMPP
 * server, on xmpp.js (@xmpp/component).
 *
 * Rules:
 * - Every local user is <username>@<domain> (the component's subdomain); a
 *   number (digits, optional +) as local part names the user whose caller ID
 *   it is.
 * - An outside JID takes part as a *shadow account*: a local account with no
 *   credentials (it can never log on), named after the JID, recorded in the
 *   gateway's store. It holds one 'xmpp' link for as long as the gateway runs,
 *   so the presence server routes to it like to any member, and its chosen
 *   presence mirrors the JID's XMPP presence (unavailable = invisible). The
 *   presence server's contact rules decide: an XMPP 'subscribe' is a contact
 *   request of the shadow, which the local user approves (or has already
 *   asked for); only then do presence and messages flow.
 * - A message from XMPP is posted by the shadow into the session mapped to
 *   that pair (created, shadow as owner, when there is none or the local user
 *   left it); a recipient with no link is reached by the notifier as for any
 *   message. A message to the shadow is queued in the gateway's outbox under
 *   an id made of the message and the contact (queued once, however often it
 *   is delivered), and the queue is sent, in order, while the component is
 *   online; an offline XMPP user is the XMPP server's business (offline
 *   storage). Voice messages go as a line of text with the audio's signed URL
 *   and a XEP-0066 out-of-band link.
 * - The connection is retried for ever, the wait doubling from
 *   reconnectMinMs to reconnectMaxMs; after each (re)connect the presence of
 *   every approved pair is sent and probed, then the outbox drains.
 * - Nothing a peer sends ends the process or changes state unless it is
 *   well-formed, from an outside JID (never our own domain), within the rate
 *   and size limits, addressed to a local user, and allowed by the contact
 *   rules; everything refused is logged with its code (and answered with an
 *   XMPP error where the protocol expects one).
 */
import { createHash } from 'node:crypto';
import { type Component, component, xml } from '@xmpp/component';
import type { Element } from '@xmpp/xml';
import type { AccountService } from '../accounts/account-service.js';
import type { User } from '../accounts/types.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { AppError, type ErrorCode, isAppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { PresenceService } from '../presence/presence-service.js';
import type { ChosenState, ImSession, Link, LinkEvent, Presence, StoredMessage } from '../presence/types.js';
import type { GatewayStatus, GatewayStore } from './ports.js';

export type XmppGatewayConfig = NonNullable<Config['gateway']['xmpp']>;

const NS_RECEIPTS = 'urn:xmpp:receipts';
const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
const NS_OOB = 'jabber:x:oob';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

export interface Jid {
  local: string;
  domain: string;
  resource: string;
  bare: string;
}

/** Parses a JID (RFC 7622's shape, lengths checked); local part and domain lower-cased. Null when malformed. */
export function parseJid(s: unknown): Jid | null {
  if (typeof s !== 'string' || s.length > 3071) return null;
  const m = /^(?:([^@/\s"&'<>:]{1,1023})@)?([^@/\s]{1,1023})(?:\/(.{1,1023}))?$/su.exec(s);
  if (!m) return null;
  const local = (m[1] ?? '').toLowerCase();
  const domain = (m[2] as string).toLowerCase();
  if (!/^[a-z0-9.-]+$/.test(domain) || domain.startsWith('.') || domain.endsWith('.')) return null;
  return { local, domain, resource: m[3] ?? '', bare: local ? `${local}@${domain}` : domain };
}

export interface XmppGatewayDeps {
  config: XmppGatewayConfig;
  presence: PresenceService;
  accounts: AccountService;
  store: GatewayStore;
  clock: Clock;
  log: Logger;
  nodeId: string;
  maxMessageBytes: number;
  /** A playable URL for a voice message's audio (signed now), or null. */
  audioUrl: (audioId: string) => string | null;
}

export interface GatewayState {
  domain: string;
  state: 'connecting' | 'online' | 'waiting' | 'stopped';
  since: number;
  connects: number;
  lastError: string | null;
}

export class XmppGateway {
  private readonly cfg: XmppGatewayConfig;
  private readonly log: Logger;
  private conn: Component | undefined;
  private isOnline = false;
  private stopped = true;
  private attempt = 0;
  private timer: TimerHandle | undefined;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private readonly links = new Map<number, Link>();
  private readonly opening = new Map<number, Promise<void>>();
  private readonly creating = new Map<string, Promise<number>>();
  private readonly buckets = new Map<string, { tokens: number; at: number; warned: boolean }>();
  private readonly chatStates = new Set<string>();
  private readonly resources = new Map<string, Map<string, { state: ChosenState; status: string | null }>>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly chains = new Map<string, Promise<void>>();
  private st: GatewayState;

  constructor(private readonly deps: XmppGatewayDeps) {
    this.cfg = deps.config;
    this.log = deps.log;
    this.st = { domain: this.cfg.domain, state: 'stopped', since: deps.clock.now(), connects: 0, lastError: null };
  }

  /** The connection as it is now. */
  get state(): GatewayState {
    return { ...this.st };
  }

  get isConnected(): boolean {
    return this.isOnline;
  }

  /** The JID of a local user (null for a shadow account or an unknown user). */
  async jidOf(userId: number): Promise<string | null> {
    const u = await this.deps.accounts.userById(userId);
    if (!u || (await this.deps.store.contactJid(userId)) !== null) return null;
    return `${u.username}@${this.cfg.domain}`;
  }

  /** Opens the shadow links and connects (retrying for ever in the background). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    for (const c of await this.deps.store.contacts()) {
      await this.deps.presence.setPresence(c.userId, 'offline');
      await this.openShadowLink(c.userId, c.jid);
    }
    this.connect();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    await Promise.allSettled([...this.opening.values()]);
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.allSettled(links.map((l) => l.close()));
    const conn = this.conn;
    this.conn = undefined;
    this.isOnline = false;
    if (conn) await this.drop(conn, true);
    await Promise.allSettled([...this.pending]);
    await this.setState('stopped', null);
  }

  /** A local user asks to see an outside JID's presence (and to chat): a contact request the XMPP side answers. */
  async subscribe(localUserId: number, jid: string): Promise<'requested' | 'approved'> {
    const j = parseJid(jid);
    if (!j?.local || j.resource || j.domain === this.cfg.domain)
      throw new AppError(
        'GATEWAY_INVALID_JID',
        `"${String(jid).slice(0, 80)}" is not an outside XMPP user (user@domain)`,
      );
    const contact = await this.ensureContact(j.bare);
    return this.deps.presence.requestContact(localUserId, contact);
  }

  // ---- the connection ----------------------------------------------------------------

  private connect(): void {
    if (this.stopped) return;
    const { host, port, domain, secret } = this.cfg;
    const conn = component({ service: `xmpp://${host}:${port}`, domain, password: secret });
    // We reconnect ourselves (with backoff, for ever); the library's fixed-delay reconnect would race us.
    conn.reconnect.stop();
    this.conn = conn;
    void this.setState('connecting', this.st.lastError);
    conn.on('error', (e: Error) => {
      this.st.lastError = e.message;
      this.log.warn({ err: e.message, host, port }, 'XMPP component connection error');
    });
    conn.on('online', () => this.track(this.online(conn)));
    conn.on('disconnect', () => this.lost(conn, 'disconnected'));
    conn.on('stanza', (s: Element) => this.inOrder(s));
    conn.iqCallee.get(NS_DISCO_INFO, 'query', () =>
      xml(
        'query',
        { xmlns: NS_DISCO_INFO },
        xml('identity', { category: 'gateway', type: 'xmpp', name: 'Phone IM' }),
        ...[NS_DISCO_INFO, NS_RECEIPTS, NS_CHATSTATES, NS_OOB].map((v) => xml('feature', { var: v })),
      ),
    );
    conn.start().catch((e: unknown) => {
      this.st.lastError = e instanceof Error ? e.message : String(e);
      this.lost(conn, 'could not connect');
    });
  }

  /** Stanzas of one sender are handled one after another, so their messages are stored in the order sent. */
  private inOrder(stanza: Element): void {
    const key = String(stanza.attrs.from ?? '').split('/')[0] as string;
    // Limited as they arrive, so that a flood queues nothing.
    if (!this.allow(key.toLowerCase())) return;
    const next = (this.chains.get(key) ?? Promise.resolve()).then(() => this.receive(stanza));
    const settled = next.catch(() => {});
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    this.track(next);
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((e: unknown) => this.log.error({ err: e }, 'the XMPP gateway failed on a stanza'));
    this.pending.add(q);
    void q.finally(() => this.pending.delete(q));
  }

  private async online(conn: Component): Promise<void> {
    if (this.conn !== conn) return;
    this.isOnline = true;
    this.attempt = 0;
    this.st.connects++;
    this.log.info({ domain: this.cfg.domain, connects: this.st.connects }, 'XMPP component online');
    await this.setState('online', null);
    for (const { contactUserId, localUserId } of await this.deps.store.approvedRoster()) {
      const jid = await this.deps.store.contactJid(contactUserId);
      const from = await this.jidOf(localUserId);
      if (!jid || !from) continue;
      await this.sendPresence(from, jid, await this.deps.presence.presenceOf(localUserId));
      await this.send(xml('presence', { type: 'probe', from, to: jid }));
    }
    this.pump();
  }

  private lost(conn: Component, why: string): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.isOnline = false;
    void this.drop(conn, false);
    if (this.stopped) return;
    const delay = Math.min(this.cfg.reconnectMaxMs, this.cfg.reconnectMinMs * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    const wait = Math.round(delay * (0.8 + Math.random() * 0.2));
    this.log.warn({ why, retryInMs: wait, attempt: this.attempt, lastError: this.st.lastError }, 'XMPP component down');
    void this.setState('waiting', this.st.lastError);
    this.timer = this.deps.clock.setTimeout(() => this.connect(), wait);
  }

  private async drop(conn: Component, graceful: boolean): Promise<void> {
    conn.removeAllListeners();
    conn.on('error', () => {});
    if (graceful && conn.status === 'online') {
      await Promise.race([conn.stop().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    }
    conn.socket?.destroy();
  }

  private async setState(state: GatewayState['state'], lastError: string | null): Promise<void> {
    const now = this.deps.clock.now();
    if (state !== this.st.state) this.st.since = now;
    this.st.state = state;
    this.st.lastError = lastError;
    const row: GatewayStatus = { nodeId: this.deps.nodeId, ...this.st, updatedAt: now };
    try {
      await this.deps.store.setStatus(row);
    } catch (e) {
      this.log.warn({ err: e }, 'could not record the gateway status');
    }
  }

  private async send(el: Element): Promise<boolean> {
    const conn = this.conn;
    if (!conn || !this.isOnline) return false;
    try {
      await conn.send(el);
      return true;
    } catch (e) {
      this.log.warn({ err: e }, 'could not send a stanza to the XMPP server');
      return false;
    }
  }

  /** Sends the outbox in order while online; one pump at a time, run again when asked meanwhile. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = (async () => {
      do {
        this.pumpAgain = false;
        for (;;) {
          if (!this.isOnline) return;
          const batch = await this.deps.store.unsent(100);
          if (batch.length === 0) break;
          for (const s of batch) {
            const el = xml(
              'message',
              { type: 'chat', id: s.stanzaId, from: s.from, to: s.to },
              xml('body', {}, s.body),
              s.oobUrl ? xml('x', { xmlns: NS_OOB }, xml('url', {}, s.oobUrl), xml('desc', {}, 'Voice message')) : null,
              xml('request', { xmlns: NS_RECEIPTS }),
              this.chatStates.has(s.to) ? xml('active', { xmlns: NS_CHATSTATES }) : null,
            );
            if (!(await this.send(el))) return;
            await this.deps.store.markSent(s.seq, this.deps.clock.now());
          }
        }
      } while (this.pumpAgain);
    })()
      .catch((e: unknown) => this.log.error({ err: e }, 'the XMPP outbox failed'))
      .finally(() => {
        this.pumping = undefined;
      });
    this.track(this.pumping);
  }

  // ---- shadow accounts -----------------------------------------------------------------

  /** Opens a shadow account's link once (a second call waits for the first). */
  private openShadowLink(userId: number, jid: string): Promise<void> {
    if (this.links.has(userId)) return Promise.resolve();
    const inFlight = this.opening.get(userId);
    if (inFlight) return inFlight;
    const p = (async () => {
      const link = await this.deps.presence.openLink(userId, {
        kind: 'xmpp',
        deliver: (event) => this.fromPresence(userId, jid, event),
      });
      // Stopped while the link opened: it is not kept.
      if (this.stopped) await link.close();
      else this.links.set(userId, link);
    })().finally(() => this.opening.delete(userId));
    this.opening.set(userId, p);
    return p;
  }

  /** The shadow account of an outside JID, created on first contact. */
  private ensureContact(jid: string): Promise<number> {
    const inFlight = this.creating.get(jid);
    if (inFlight) return inFlight;
    const p = (async () => {
      const existing = await this.deps.store.contactUser(jid);
      if (existing !== null) return existing;
      const [local, domain] = jid.split('@') as [string, string];
      const user = await this.deps.accounts.createUser({
        username: `x-${createHash('sha256').update(jid).digest('hex').slice(0, 16)}`,
        displayName: jid.slice(0, 64),
        spokenName: `${local} at ${domain}`.slice(0, 100),
      });
      await this.deps.store.addContact(jid, user.id, this.deps.clock.now());
      await this.deps.presence.setPresence(user.id, 'offline');
      await this.openShadowLink(user.id, jid);
      this.log.info({ jid, user: user.id }, 'XMPP contact added');
      return user.id;
    })().finally(() => this.creating.delete(jid));
    this.creating.set(jid, p);
    return p;
  }

  /** What the presence server gives a shadow's link. Never throws: the link must not refuse. */
  private fromPresence(contact: number, jid: string, event: LinkEvent): void {
    switch (event.type) {
      case 'message':
        if (event.message.fromUserId !== contact) this.track(this.queueMessage(contact, jid, event.message));
        return;
      case 'presence':
        if (event.presence.userId !== contact) this.track(this.presenceToXmpp(contact, jid, event.presence));
        return;
      case 'invite':
        this.track(this.invited(contact, event.session, event.inviterId));
        return;
      case 'contact-request':
        this.track(this.localAsks(contact, jid, event.fromUserId));
        return;
      default:
        return;
    }
  }

  private async queueMessage(contact: number, jid: string, m: StoredMessage): Promise<void> {
    const from = await this.jidOf(m.fromUserId);
    if (!from) {
      this.log.debug({ message: m.id, from: m.fromUserId }, 'a message from another XMPP contact is not relayed');
      return;
    }
    const sender = await this.deps.accounts.userById(m.fromUserId);
    let body = m.text ?? '';
    let oobUrl: string | undefined;
    if (m.kind === 'voice') {
      oobUrl = (m.audioId ? this.deps.audioUrl(m.audioId) : null) ?? m.audioUrl ?? undefined;
      body = `Voice message from ${sender?.displayName ?? 'someone'}${m.text ? `: "${m.text}"` : ''}${oobUrl ? ` - listen: ${oobUrl}` : ''}`;
    }
    await this.deps.store.enqueue(
      { stanzaId: `m${m.id}-${contact}`, from, to: jid, body, ...(oobUrl ? { oobUrl } : {}) },
      this.deps.clock.now(),
    );
    this.pump();
  }

  private async presenceToXmpp(contact: number, jid: string, p: Presence): Promise<void> {
    const from = await this.jidOf(p.userId);
    if (!from) return;
    const roster = await this.deps.store.rosterState(contact, p.userId);
    if (roster !== 'approved' && (await this.deps.presence.isContact(contact, p.userId))) {
      // The local user approved (or asked back): tell the XMPP side, both ways.
      await this.deps.store.setRoster(contact, p.userId, 'approved', this.deps.clock.now());
      this.log.info({ jid, user: p.userId }, 'XMPP subscription approved');
      await this.send(xml('presence', { type: 'subscribed', from, to: jid }));
      if (roster === 'asked') await this.send(xml('presence', { type: 'subscribe', from, to: jid }));
    } else if (roster !== 'approved') return;
    await this.sendPresence(from, jid, p);
  }

  private async sendPresence(from: string, to: string, p: Presence): Promise<void> {
    if (p.state === 'offline') {
      await this.send(xml('presence', { type: 'unavailable', from, to }));
      return;
    }
    const show = { online: null, 'on-the-phone': 'dnd', away: 'away', busy: 'dnd' }[p.state];
    const status =
      p.state === 'on-the-phone' ? `On the phone${p.statusText ? ` - ${p.statusText}` : ''}` : (p.statusText ?? null);
    await this.send(
      xml('presence', { from, to }, show ? xml('show', {}, show) : null, status ? xml('status', {}, status) : null),
    );
  }

  private async invited(contact: number, session: ImSession, inviterId: number): Promise<void> {
    await this.deps.presence.accept(session.id, contact);
    if ((await this.deps.store.contactJid(inviterId)) === null)
      await this.deps.store.setSession(contact, inviterId, session.id, this.deps.clock.now());
  }

  private async localAsks(contact: number, jid: string, localUserId: number): Promise<void> {
    const from = await this.jidOf(localUserId);
    if (!from) return;
    await this.deps.store.setRoster(contact, localUserId, 'asking', this.deps.clock.now());
    await this.send(xml('presence', { type: 'subscribe', from, to: jid }));
  }

  // ---- stanzas from XMPP -------------------------------------------------------------

  private refuse(code: ErrorCode, fields: Record<string, unknown>, what: string): void {
    this.log.warn({ code, ...fields }, what);
  }

  private async receive(stanza: Element): Promise<void> {
    const from = parseJid(stanza.attrs.from);
    const to = parseJid(stanza.attrs.to);
    if (!from?.local || from.domain === this.cfg.domain || from.domain.endsWith(`.${this.cfg.domain}`)) {
      this.refuse('GATEWAY_SPOOFED_FROM', { from: String(stanza.attrs.from).slice(0, 200) }, 'stanza dropped');
      return;
    }
    if (stanza.name === 'iq') return; // iqs are answered by the library's iq callee
    const size = Buffer.byteLength(stanza.toString(), 'utf8');
    if (size > this.cfg.maxStanzaBytes) {
      this.refuse('GATEWAY_STANZA_TOO_LARGE', { from: from.bare, bytes: size }, 'stanza refused');
      if (stanza.attrs.type !== 'error') await this.bounce(stanza, 'policy-violation', 'modify', 'too large');
      return;
    }
    if (!to || to.domain !== this.cfg.domain) return;
    if (stanza.name === 'message') await this.message(stanza, from, to);
    else if (stanza.name === 'presence') await this.presenceIn(stanza, from, to);
  }

  /** A token bucket per outside JID; the first drop of a burst is logged. */
  private allow(jid: string): boolean {
    const now = this.deps.clock.now();
    const rate = this.cfg.maxStanzasPerSecond;
    let b = this.buckets.get(jid);
    if (!b) {
      if (this.buckets.size >= 10_000) this.buckets.clear();
      b = { tokens: rate, at: now, warned: false };
      this.buckets.set(jid, b);
    }
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      b.warned = false;
      return true;
    }
    if (!b.warned) {
      b.warned = true;
      this.refuse('GATEWAY_RATE_LIMITED', { from: jid, perSecond: rate }, 'stanzas dropped');
    }
    return false;
  }

  private async bounce(stanza: Element, condition: string, type: string, text: string): Promise<void> {
    await this.send(
      xml(
        stanza.name,
        { type: 'error', from: stanza.attrs.to, to: stanza.attrs.from, id: stanza.attrs.id },
        xml(
          'error',
          { type },
          xml(condition, { xmlns: NS_STANZAS }),
          xml('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, text),
        ),
      ),
    );
  }

  /** The local user a JID on our domain names: a username, or a caller-ID number. */
  private async localUser(local: string): Promise<User | null> {
    if (!local) return null;
    let user: User | null = null;
    if (/^\+?\d{3,15}$/.test(local))
      user = await this.deps.accounts.lookupCaller(local.startsWith('+') ? local : `+${local}`);
    else if (/^[a-z][a-z0-9._-]{1,31}$/.test(local)) user = await this.deps.accounts.findUser(local);
    if (!user || (await this.deps.store.contactJid(user.id)) !== null) return null;
    return user;
  }

  private async message(stanza: Element, from: Jid, to: Jid): Promise<void> {
    const type = stanza.attrs.type ?? 'normal';
    if (type === 'error') {
      this.log.info({ from: from.bare, to: to.bare, id: stanza.attrs.id }, 'XMPP error for a message we sent');
      return;
    }
    if (stanza.children.some((c) => typeof c !== 'string' && c.attrs.xmlns === NS_CHATSTATES))
      this.chatStates.add(from.bare);
    const body = stanza.getChildText('body');
    if (body === null) return; // a chat state or a receipt on its own
    const user = await this.localUser(to.local);
    if (!user) {
      this.refuse('GATEWAY_UNKNOWN_USER', { from: from.bare, to: to.bare }, 'message refused');
      await this.bounce(stanza, 'item-not-found', 'cancel', 'no such user');
      return;
    }
    if (Buffer.byteLength(body, 'utf8') > this.deps.maxMessageBytes) {
      this.refuse('GATEWAY_STANZA_TOO_LARGE', { from: from.bare, bytes: Buffer.byteLength(body) }, 'message refused');
      await this.bounce(
        stanza,
        'policy-violation',
        'modify',
        `a message may have at most ${this.deps.maxMessageBytes} bytes`,
      );
      return;
    }
    const contact = await this.deps.store.contactUser(from.bare);
    if (contact === null || !(await this.deps.presence.isContact(contact, user.id))) {
      this.refuse('GATEWAY_NOT_SUBSCRIBED', { from: from.bare, to: to.bare }, 'message refused');
      await this.bounce(stanza, 'subscription-required', 'auth', 'ask to add this user first');
      return;
    }
    const refused = async (e: unknown) => {
      if (!isAppError(e)) throw e;
      this.refuse(e.code, { from: from.bare, to: to.bare, reason: e.message }, 'message refused');
      await this.bounce(stanza, 'not-acceptable', 'modify', e.message);
    };
    let sessionId: string;
    try {
      sessionId = await this.sessionFor(contact, user.id);
    } catch (e) {
      await refused(e);
      return;
    }
    // Posted in the sender's order (the message cache commits in call order); the commit is awaited
    // outside the sender's queue, so one busy sender is not held to one commit at a time.
    const posting = this.deps.presence.postMessage({ sessionId, fromUserId: contact, text: body });
    this.track(
      posting.then(async () => {
        if (stanza.getChild('request', NS_RECEIPTS) && stanza.attrs.id)
          await this.send(
            xml(
              'message',
              { from: to.bare, to: stanza.attrs.from, id: `r-${stanza.attrs.id}` },
              xml('received', { xmlns: NS_RECEIPTS, id: stanza.attrs.id }),
            ),
          );
      }, refused),
    );
  }

  /** The session of this pair: the mapped one while both are still in it, else a new one. */
  private async sessionFor(contact: number, localUserId: number): Promise<string> {
    const { presence, store, clock } = this.deps;
    const id = await store.sessionOf(contact, localUserId);
    if (id) {
      try {
        const members = await presence.members(id);
        const mine = members.find((m) => m.userId === contact)?.state;
        const theirs = members.find((m) => m.userId === localUserId)?.state;
        if (mine === 'joined' && (theirs === 'joined' || theirs === 'invited')) return id;
      } catch (e) {
        if (!isAppError(e, 'PRESENCE_SESSION_NOT_FOUND')) throw e;
      }
    }
    const session = await presence.createSession(contact, [localUserId]);
    await store.setSession(contact, localUserId, session.id, clock.now());
    return session.id;
  }

  private async presenceIn(stanza: Element, from: Jid, to: Jid): Promise<void> {
    const type = stanza.attrs.type ?? 'available';
    const { presence, store, clock } = this.deps;
    if (type === 'error') return;
    const user = await this.localUser(to.local);
    if (!user) {
      if (to.local) {
        this.refuse('GATEWAY_UNKNOWN_USER', { from: from.bare, to: to.bare, type }, 'presence ignored');
        if (type === 'subscribe')
          await this.send(xml('presence', { type: 'unsubscribed', from: to.bare, to: from.bare }));
      }
      return;
    }
    const localJid = `${user.username}@${this.cfg.domain}`;
    if (type === 'subscribe') {
      const contact = await this.ensureContact(from.bare);
      const before = await store.rosterState(contact, user.id);
      if ((await presence.requestContact(contact, user.id)) === 'approved') {
        await store.setRoster(contact, user.id, 'approved', clock.now());
        await this.send(xml('presence', { type: 'subscribed', from: localJid, to: from.bare }));
        if (before !== 'approved')
          await this.send(xml('presence', { type: 'subscribe', from: localJid, to: from.bare }));
        await this.sendPresence(localJid, from.bare, await presence.presenceOf(user.id));
      } else {
        await store.setRoster(contact, user.id, 'asked', clock.now());
        this.log.info({ jid: from.bare, user: user.id }, 'XMPP subscription waits for the local user');
      }
      return;
    }
    const contact = await store.contactUser(from.bare);
    if (contact === null) {
      this.log.debug({ from: from.bare, type }, 'presence from an XMPP user who is not a contact');
      return;
    }
    const roster = await store.rosterState(contact, user.id);
    switch (type) {
      case 'subscribed':
        if (roster === 'asking') {
          await presence.approveContact(contact, user.id);
          await store.setRoster(contact, user.id, 'approved', clock.now());
          await this.sendPresence(localJid, from.bare, await presence.presenceOf(user.id));
        }
        return;
      case 'unsubscribe':
      case 'unsubscribed':
        await presence.removeContact(contact, user.id);
        await store.removeRoster(contact, user.id);
        return;
      case 'probe':
        if (roster === 'approved') await this.sendPresence(localJid, from.bare, await presence.presenceOf(user.id));
        return;
      case 'available':
      case 'unavailable':
        if (roster === 'approved') await this.contactPresence(contact, from, type === 'unavailable' ? null : stanza);
        return;
      default:
        this.log.debug({ from: from.bare, type }, 'presence of an unknown type ignored');
    }
  }

  /** An outside contact's presence (one resource) becomes the shadow's chosen presence: the most available resource. */
  private async contactPresence(contact: number, from: Jid, stanza: Element | null): Promise<void> {
    let res = this.resources.get(from.bare);
    if (!res) {
      res = new Map();
      this.resources.set(from.bare, res);
    }
    if (stanza === null) res.delete(from.resource);
    else {
      const show = stanza.getChildText('show');
      const state: ChosenState = show === 'away' || show === 'xa' ? 'away' : show === 'dnd' ? 'busy' : 'online';
      const raw = stanza.getChildText('status');
      const status = raw
        ? raw
            .replace(/[\p{C}]/gu, ' ')
            .trim()
            .slice(0, 140) || null
        : null;
      res.set(from.resource, { state, status });
    }
    const rank: Record<ChosenState, number> = { online: 3, away: 2, busy: 1, offline: 0 };
    let best: { state: ChosenState; status: string | null } = { state: 'offline', status: null };
    for (const r of res.values()) if (rank[r.state] > rank[best.state]) best = r;
    await this.deps.presence.setPresence(contact, best.state, best.status);
  }
}
