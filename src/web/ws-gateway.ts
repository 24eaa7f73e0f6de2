/**
 * The WebSocket for live updates (GET /api/v1/ws?token=..., or the session
 * cookie from a thin-client page). One socket is one link of kind
 * "websocket", bound to its session object: on open it gets what is waiting
 * (from the object's cursor, oldest first), then every event as it happens.
 *
 * Frames are JSON. The server sends {type:"hello"} first, then events
 * (message, presence, invite, member, contact-request, read), and answers
 * each client request carrying a `ref` with {type:"ack"} or {type:"error"}.
 * Client requests: send {sessionId, text, clientMessageId?} (acked with the
 * message and isNew: false when the clientMessageId repeats an earlier post,
 * whose stored message it carries), read {messageIds}, presence
 * {state, statusText}, ping. A frame that is not JSON, or too big, gets an
 * error frame and changes nothing. An upgrade that reached the wrong node is
 * answered 307 to the holder; one without a valid token, 401; one more than
 * http.maxWebSocketsPerUser for its user, 429.
 *
 * The server pings every socket each http.wsPingSeconds; a socket that has not
 * answered the previous ping by then is dead: it is cut and its link closed
 * (the user goes offline, messages stay pending, the notifier may escalate).
 * Posts over WebSocket count against the same per-user limit as the API.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Services } from '../app.js';
import type { TimerHandle } from '../core/clock.js';
import { AppError, isAppError } from '../core/errors.js';
import type { Link, LinkEvent, StoredMessage } from '../presence/types.js';
import type { WebAuth, WebSessions } from './auth.js';
import type { WebLimits } from './limits.js';

export const WS_PATH = '/api/v1/ws';
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * A stored message's JSON, made once per message and shared by every frame
 * that carries it: each recipient socket's message frame and the sender's
 * ack. Stored messages are never changed once made (a fresh audio URL is a
 * new object), so the text cannot go stale.
 */
const messageJson = new WeakMap<StoredMessage, string>();

function jsonOfMessage(m: StoredMessage): string {
  let s = messageJson.get(m);
  if (s === undefined) {
    s = JSON.stringify(m);
    messageJson.set(m, s);
  }
  return s;
}

/**
 * A frame's text, as JSON.stringify would write it, except that a stored
 * message it carries (`message`) is written from its shared JSON.
 */
export function frameText(frame: unknown): string {
  const message = typeof frame === 'object' && frame !== null ? (frame as { message?: unknown }).message : undefined;
  if (typeof message !== 'object' || message === null) return JSON.stringify(frame);
  let out = '{';
  for (const key of Object.keys(frame as object)) {
    const value = (frame as Record<string, unknown>)[key];
    const text = key === 'message' ? jsonOfMessage(value as StoredMessage) : JSON.stringify(value);
    // JSON.stringify leaves out a property whose value has no JSON (undefined, a function).
    if (text === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${text}`;
  }
  return `${out}}`;
}

function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The session object a WebSocket upgrade named, set by its auth hook. */
    wsAuth: WebAuth | undefined;
  }
}

interface Held {
  userId: number;
  objectId: string;
  /** Answered the last ping (or is new). */
  isAlive: boolean;
}

/** How often a node checks whether the session objects of its sockets ended on another node. */
const ENDED_CHECK_MS = 2000;

export class WsGateway {
  private readonly held = new Map<WebSocket, Held>();
  /** Sockets held per user, so the per-user cap costs one look-up, not a walk over every socket. */
  private readonly perUser = new Map<number, number>();
  private pingTimer: TimerHandle | undefined;
  private endedTimer: TimerHandle | undefined;
  /** The credentials version when the held sockets' objects were last checked. */
  private checkedVersion: number | undefined;
  private isClosed = false;

  constructor(
    private readonly services: Services,
    private readonly limits: WebLimits,
    private readonly sessions: WebSessions,
  ) {
    this.schedulePing();
    this.scheduleEndedCheck();
  }

  /**
   * A log-out (or a password change, an idle sweep, a take-over) on another
   * node ends a session object whose socket this node holds: this node's own
   * log-outs cut it at once (closeObject); for the others, the credentials
   * version (raised in the same commit as every end or move) is read every
   * ENDED_CHECK_MS, and only when it moved are the held objects looked up, in
   * one read. So a socket outlives its object's end elsewhere by at most that
   * interval, while an HTTP request is refused at once (WebSessions).
   */
  private scheduleEndedCheck(): void {
    const { clock, log } = this.services;
    this.endedTimer = clock.setTimeout(() => {
      if (this.isClosed) return;
      this.cutEnded()
        .catch((e: unknown) => log.warn({ err: e }, 'could not check the sockets’ session objects'))
        .finally(() => {
          if (!this.isClosed) this.scheduleEndedCheck();
        });
    }, ENDED_CHECK_MS);
  }

  private async cutEnded(): Promise<void> {
    if (this.held.size === 0) return;
    const version = await this.services.accounts.credentialsVersion();
    if (version === this.checkedVersion) return;
    const ids = [...new Set([...this.held.values()].map((h) => h.objectId))];
    for (const id of await this.services.presence.objects.endedHere(ids)) this.closeObject(id);
    // Only once the look-up answered: a failed one is tried again at the next check.
    this.checkedVersion = version;
  }

  private schedulePing(): void {
    const { clock, config } = this.services;
    this.pingTimer = clock.setTimeout(() => {
      if (this.isClosed) return;
      for (const [ws, h] of this.held) {
        if (!h.isAlive) {
          // No pong since the last ping: the peer is gone (or stopped reading); its link closes with the socket.
          ws.terminate();
          continue;
        }
        h.isAlive = false;
        try {
          ws.ping();
        } catch {
          ws.terminate();
        }
      }
      this.schedulePing();
    }, config.http.wsPingSeconds * 1000);
  }

  private socketsOf(userId: number): number {
    return this.perUser.get(userId) ?? 0;
  }

  private hold(ws: WebSocket, held: Held): void {
    this.held.set(ws, held);
    this.perUser.set(held.userId, this.socketsOf(held.userId) + 1);
  }

  private release(ws: WebSocket): void {
    const h = this.held.get(ws);
    if (!h) return;
    this.held.delete(ws);
    const n = this.socketsOf(h.userId) - 1;
    if (n > 0) this.perUser.set(h.userId, n);
    else this.perUser.delete(h.userId);
  }

  /** Cuts the sockets of a session object that has ended (log-out, a password change elsewhere). */
  closeObject(objectId: string): void {
    for (const [ws, h] of this.held) if (h.objectId === objectId) ws.close(4001, 'the session has ended');
  }

  /** The WebSocket route, as a plugin: an upgrade is refused (307, 401, 403, 429) before it happens. */
  plugin() {
    return async (app: FastifyInstance): Promise<void> => {
      app.decorateRequest('wsAuth', undefined);
      app.get(
        WS_PATH,
        { websocket: true, onRequest: (request, reply) => this.authorize(request, reply) },
        (socket, request) => {
          const replay = (request.query as Record<string, unknown>).replay !== 'false';
          if (request.wsAuth) this.attach(socket, request.wsAuth, replay, request.raw.socket);
          else socket.terminate();
        },
      );
    };
  }

  private async authorize(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const r = await this.sessions.resolve(request);
    if (r.kind === 'redirect') return reply.code(307).header('location', r.location.replace(/^http/, 'ws')).send();
    if (r.kind === 'none') throw new AppError('WEB_UNAUTHORIZED', 'log in first (the token is missing or expired)');
    // Cross-site WebSocket hijacking: a page cookie is good only from our own pages.
    if (r.auth.via === 'cookie' && !sameOrigin(request))
      throw new AppError('WEB_CSRF_FAILED', 'a WebSocket with the page cookie must come from our own pages');
    const max = this.services.config.http.maxWebSocketsPerUser;
    if (this.socketsOf(r.auth.user.id) >= max) {
      reply.header('retry-after', String(this.services.config.http.wsPingSeconds));
      throw new AppError('WEB_TOO_MANY_SOCKETS', `you already have ${max} live connections; close one first`);
    }
    request.wsAuth = r.auth;
    return undefined;
  }

  private attach(ws: WebSocket, auth: WebAuth, replay: boolean, tcp: Socket | undefined): void {
    const { presence } = this.services;
    const held: Held = { userId: auth.user.id, objectId: auth.object.id, isAlive: true };
    this.hold(ws, held);
    ws.on('pong', () => {
      held.isAlive = true;
    });
    // The frames a socket is given in one tick (a group commit answers many posts at once: a client's ack and the
    // message its peer sent often come together) leave in one write, not one system call each.
    let isCorked = false;
    const uncork = () => {
      isCorked = false;
      tcp?.uncork();
    };
    const write = (data: string) => {
      if (tcp && !isCorked) {
        isCorked = true;
        tcp.cork();
        process.nextTick(uncork);
      }
      ws.send(data);
    };
    const send = (frame: unknown) => {
      if (ws.readyState === ws.OPEN) write(frameText(frame));
    };
    send({ type: 'hello', userId: auth.user.id, username: auth.user.username, sessionObjectId: auth.object.id });
    const deliver = (event: LinkEvent) => {
      if (ws.readyState !== ws.OPEN) throw new Error('socket closed');
      // A client that does not read is cut off rather than buffered for ever; what it missed stays waiting.
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        ws.terminate();
        throw new Error('the client does not keep up');
      }
      write(frameText(event));
    };
    let isClosed = false;
    // Frames that come while the link opens wait for it, in order.
    const opening: Promise<Link | undefined> = presence
      .openLink(auth.user.id, { kind: 'websocket', deliver, sessionObjectId: auth.object.id, replay })
      .then(
        async (link) => {
          // The socket went away while the link opened: the link goes too.
          if (isClosed) await link.close();
          return link;
        },
        (e: unknown) => {
          send({
            type: 'error',
            error: isAppError(e) ? e.toJSON() : { code: 'CORE_INTERNAL', message: 'internal error' },
          });
          this.release(ws);
          ws.close(1011);
          return undefined;
        },
      );
    // Once the link is open a frame goes straight to it (no promise per frame); this is told first, before the
    // frames that waited, so the order holds.
    let open: Link | undefined;
    void opening.then((link) => {
      open = link;
    });
    ws.on('message', (data, isBinary) => {
      if (open) void this.onFrame(auth, open, data, isBinary, send);
      else void opening.then((link) => (link ? this.onFrame(auth, link, data, isBinary, send) : undefined));
    });
    const closed = () => {
      if (isClosed) return;
      isClosed = true;
      this.release(ws);
      void opening
        .then(async (link) => {
          await link?.close();
          // The socket kept the session object in use: its idle time starts now.
          await presence.objects.touch(auth.object.id);
        })
        .catch(() => {
          // Shutting down: the store is already closed.
        });
    };
    ws.on('close', closed);
    ws.on('error', closed);
  }

  private async onFrame(
    auth: WebAuth,
    link: Link,
    data: unknown,
    isBinary: boolean,
    send: (frame: unknown) => void,
  ): Promise<void> {
    const { presence } = this.services;
    let frame: Record<string, unknown>;
    try {
      if (isBinary) throw new Error('binary');
      const parsed: unknown = JSON.parse(String(data));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      frame = parsed as Record<string, unknown>;
    } catch {
      send({ type: 'error', error: { code: 'WEB_BAD_REQUEST', message: 'a frame must be a JSON object' } });
      return;
    }
    const ref = typeof frame.ref === 'string' || typeof frame.ref === 'number' ? frame.ref : undefined;
    try {
      switch (frame.type) {
        case 'send': {
          await this.limits.checkPost(auth.user.id);
          const { message, isNew } = await presence.post(
            {
              sessionId: frame.sessionId as string,
              fromUserId: auth.user.id,
              text: frame.text as string,
              clientMessageId: frame.clientMessageId as string | undefined,
            },
            { viaLinkId: link.id },
          );
          send({ type: 'ack', ref, message, isNew });
          break;
        }
        case 'read':
          send({ type: 'ack', ref, read: await presence.markRead(auth.user.id, frame.messageIds as string[]) });
          break;
        case 'presence':
          send({
            type: 'ack',
            ref,
            presence: await presence.setPresence(
              auth.user.id,
              frame.state as never,
              frame.statusText as string | undefined,
            ),
          });
          break;
        case 'ping':
          send({ type: 'pong', ref });
          break;
        default:
          throw new AppError('WEB_BAD_REQUEST', `unknown frame type ${JSON.stringify(frame.type)?.slice(0, 30)}`);
      }
    } catch (e) {
      const error = isAppError(e) ? e.toJSON() : { code: 'CORE_INTERNAL', message: 'internal error' };
      send({ type: 'error', ref, error });
    }
  }

  get clients(): number {
    return this.held.size;
  }

  close(): void {
    this.isClosed = true;
    if (this.pingTimer) this.services.clock.clearTimeout(this.pingTimer);
    if (this.endedTimer) this.services.clock.clearTimeout(this.endedTimer);
    for (const c of this.held.keys()) c.terminate();
    this.held.clear();
    this.perUser.clear();
  }
}
