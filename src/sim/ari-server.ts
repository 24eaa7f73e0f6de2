/**
 * The simulator's ARI face: Asterisk's REST paths under /ari, its API
 * declarations under /ari/api-docs (so ari-client connects unchanged), and
 * the events WebSocket at /ari/events. Authentication as on Asterisk: HTTP
 * Basic or `api_key=user:password`, 401 otherwise. Errors carry Asterisk's
 * body, `{ "message": "Channel not found" }`. One WebSocket holds an
 * application; a new one for the same application replaces it (the old one
 * gets ApplicationReplaced), as on Asterisk.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../core/logger.js';
import { listenOn } from '../core/net.js';
import { apiDeclaration, resourceListing } from './ari-declarations.js';
import { type AriEvent, AriHttpError, type Softswitch } from './softswitch.js';

type Query = Record<string, string | undefined>;
type Reply = { status: number; body?: unknown; binary?: Buffer; contentType?: string };
type RouteHandler = (q: Query, p: Record<string, string>, body: Record<string, unknown>) => Reply | Promise<Reply>;

const MAX_BODY = 1024 * 1024;
const EVENT_LOG_LIMIT = 20_000;

export interface AriServerOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  log: Logger;
}

export class AriServer {
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly routes: { method: string; parts: string[]; handler: RouteHandler }[] = [];
  /** The socket holding each application. */
  private readonly holders = new Map<string, WebSocket>();
  private refuseUntil = 0;
  /** Every event sent (capped): tests compare their fields with the real declarations. */
  readonly eventLog: AriEvent[] = [];

  constructor(
    private readonly sw: Softswitch,
    private readonly opts: AriServerOptions,
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    this.server.on('clientError', (_e, socket) => {
      socket.on('error', () => socket.destroy());
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
    sw.setSink((app, e) => this.deliver(app, e));
    this.defineRoutes();
  }

  listen(): Promise<number> {
    return listenOn(this.server, this.opts.port, this.opts.host);
  }

  /** Cuts every events WebSocket; refuses new ones for `refuseMs` of clock time. */
  dropWebSockets(refuseMs = 0): void {
    this.refuseUntil = this.sw.clock.now() + refuseMs;
    for (const ws of this.wss.clients) ws.terminate();
  }

  get webSocketCount(): number {
    return this.wss.clients.size;
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private deliver(app: string, e: AriEvent): void {
    this.eventLog.push(e);
    if (this.eventLog.length > EVENT_LOG_LIMIT) this.eventLog.splice(0, this.eventLog.length - EVENT_LOG_LIMIT);
    const ws = this.holders.get(app);
    if (ws && ws.readyState === ws.OPEN) ws.send(JSON.stringify(e));
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    const key = url.searchParams.get('api_key');
    if (key !== null) return key === `${this.opts.user}:${this.opts.password}`;
    const h = req.headers.authorization ?? '';
    if (!h.startsWith('Basic ')) return false;
    return Buffer.from(h.slice(6), 'base64').toString('utf8') === `${this.opts.user}:${this.opts.password}`;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A client may reset a refused upgrade: its error must not end the process.
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/ari/events') {
      refuse('404 Not Found');
      return;
    }
    if (!this.authorized(req, url)) {
      refuse('401 Unauthorized');
      return;
    }
    if (this.sw.clock.now() < this.refuseUntil) {
      refuse('503 Service Unavailable');
      return;
    }
    const apps = (url.searchParams.get('app') ?? '').split(',').filter(Boolean);
    if (apps.length === 0) {
      refuse('400 Bad Request');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      for (const app of apps) {
        const old = this.holders.get(app);
        if (old && old !== ws) {
          old.send(
            JSON.stringify({
              type: 'ApplicationReplaced',
              timestamp: new Date(this.sw.clock.now()).toISOString().replace('Z', '+0000'),
              application: app,
              asterisk_id: this.sw.asteriskId,
            }),
          );
        }
        this.holders.set(app, ws);
        this.sw.registerApp(app);
      }
      this.opts.log.debug({ apps }, 'ARI WebSocket connected');
      ws.on('close', () => {
        for (const app of apps) {
          if (this.holders.get(app) === ws) {
            this.holders.delete(app);
            this.sw.unregisterApp(app);
          }
        }
      });
      ws.on('error', () => {});
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (r: Reply) => {
      if (r.binary) {
        res.writeHead(r.status, { 'content-type': r.contentType ?? 'application/octet-stream' });
        res.end(r.binary);
      } else if (r.body === undefined) {
        res.writeHead(r.status);
        res.end();
      } else {
        const text = JSON.stringify(r.body);
        res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      }
    };
    if (!url.pathname.startsWith('/ari/')) {
      send({ status: 404, body: { message: 'Resource not found' } });
      return;
    }
    if (!this.authorized(req, url)) {
      res.setHeader('www-authenticate', 'Basic realm="Asterisk REST Interface"');
      send({ status: 401, body: { error: 'Authentication required' } });
      return;
    }
    const segments = url.pathname.slice(5).split('/').filter(Boolean);
    let decoded: string[];
    try {
      decoded = segments.map(decodeURIComponent);
    } catch {
      send({ status: 400, body: { message: 'Malformed path' } });
      return;
    }
    const method = req.method ?? 'GET';
    let pathMatched = false;
    for (const r of this.routes) {
      const params = match(r.parts, decoded);
      if (!params) continue;
      pathMatched = true;
      if (r.method !== method) continue;
      try {
        const body = await readBody(req);
        const q: Query = {};
        for (const [k, v] of url.searchParams) q[k] = q[k] === undefined ? v : `${q[k]},${v}`;
        for (const [k, v] of Object.entries(body)) if (k !== 'variables' && q[k] === undefined) q[k] = String(v);
        if (r.parts[0] === 'api-docs') params.host = req.headers.host ?? `${this.opts.host}`;
        send(await r.handler(q, params, body));
      } catch (e) {
        if (e instanceof AriHttpError) send({ status: e.status, body: { message: e.message } });
        else {
          this.opts.log.error({ err: e, path: url.pathname }, 'simulated ARI request failed');
          send({ status: 500, body: { message: 'Internal Server Error' } });
        }
      }
      return;
    }
    send(
      pathMatched
        ? { status: 405, body: { message: 'Method not allowed' } }
        : { status: 404, body: { message: 'Resource not found' } },
    );
  }

  private on(method: string, pattern: string, handler: RouteHandler): void {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
  }

  private defineRoutes(): void {
    const sw = this.sw;
    const ok = (body?: unknown): Reply => (body === undefined ? { status: 204 } : { status: 200, body });
    const num = (v: string | undefined, name: string): number | undefined => {
      if (v === undefined || v === '') return undefined;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new AriHttpError(400, `${name} must be a number`);
      return n;
    };
    const bool = (v: string | undefined): boolean | undefined => (v === undefined ? undefined : v === 'true');
    const base = (p: Record<string, string>) => `http://${p.host}/ari`;

    this.on('GET', 'api-docs/resources.json', (_q, p) => ok(resourceListing(base(p))));
    this.on('GET', 'api-docs/:file', (_q, p) => {
      const decl = apiDeclaration((p.file ?? '').replace(/\.json$/, ''), base(p));
      if (!decl) throw new AriHttpError(404, 'Resource not found');
      return ok(decl);
    });

    const originate = (q: Query, body: Record<string, unknown>, channelId: string | undefined) =>
      ok(
        sw.originate({
          endpoint: q.endpoint,
          app: q.app,
          appArgs: q.appArgs,
          callerId: q.callerId,
          timeout: num(q.timeout, 'timeout'),
          channelId: channelId ?? q.channelId,
          otherChannelId: q.otherChannelId,
          variables: variablesOf(body),
        }),
      );
    this.on('GET', 'channels', () => ok([...sw.channels.values()].filter((c) => !c.dead).map((c) => sw.snapshot(c))));
    this.on('POST', 'channels', (q, _p, body) => originate(q, body, undefined));
    this.on('GET', 'channels/:id', (_q, p) => ok(sw.snapshot(sw.channel(p.id as string))));
    this.on('POST', 'channels/:id', (q, p, body) => originate(q, body, p.id));
    this.on('DELETE', 'channels/:id', (q, p) => {
      sw.hangup(p.id as string, q.reason, q.reason_code);
      return ok();
    });
    this.on('POST', 'channels/:id/answer', (_q, p) => {
      sw.answer(p.id as string);
      return ok();
    });
    this.on('POST', 'channels/:id/ring', (_q, p) => {
      sw.ring(p.id as string);
      return ok();
    });
    const media = (q: Query) => (q.media ?? '').split(',');
    this.on('POST', 'channels/:id/play', (q, p) => ok(sw.play(p.id as string, media(q), q.playbackId, q.lang)));
    this.on('POST', 'channels/:id/play/:pb', (q, p) => ok(sw.play(p.id as string, media(q), p.pb, q.lang)));
    this.on('POST', 'channels/:id/record', (q, p) =>
      ok(
        sw.record(p.id as string, {
          name: q.name,
          format: q.format,
          maxDurationSeconds: num(q.maxDurationSeconds, 'maxDurationSeconds'),
          maxSilenceSeconds: num(q.maxSilenceSeconds, 'maxSilenceSeconds'),
          ifExists: q.ifExists,
          beep: bool(q.beep),
          terminateOn: q.terminateOn,
        }),
      ),
    );
    this.on('GET', 'channels/:id/variable', (q, p) => ok({ value: sw.getVar(p.id as string, q.variable) }));
    this.on('POST', 'channels/:id/variable', (q, p) => {
      sw.setVar(p.id as string, q.variable, q.value ?? '');
      return ok();
    });

    this.on('GET', 'playbacks/:id', (_q, p) => ok(sw.getPlayback(p.id as string)));
    this.on('DELETE', 'playbacks/:id', (_q, p) => {
      sw.stopPlayback(p.id as string);
      return ok();
    });

    this.on('GET', 'recordings/stored', () =>
      ok([...sw.storedRecordings.values()].map((r) => ({ name: r.name, format: r.format }))),
    );
    this.on('GET', 'recordings/stored/:name', (_q, p) => {
      const r = sw.stored(p.name as string);
      return ok({ name: r.name, format: r.format });
    });
    this.on('DELETE', 'recordings/stored/:name', (_q, p) => {
      sw.deleteStored(p.name as string);
      return ok();
    });
    this.on('GET', 'recordings/stored/:name/file', (_q, p) => {
      const r = sw.stored(p.name as string);
      return { status: 200, binary: r.data, contentType: r.format.startsWith('wav') ? 'audio/wav' : 'audio/basic' };
    });
    this.on('GET', 'recordings/live/:name', (_q, p) => ok(sw.getLiveRecording(p.name as string)));
    this.on('DELETE', 'recordings/live/:name', (_q, p) => {
      sw.cancelRecording(p.name as string);
      return ok();
    });
    this.on('POST', 'recordings/live/:name/stop', (_q, p) => {
      sw.stopRecording(p.name as string);
      return ok();
    });

    this.on('GET', 'bridges', () => ok([...sw.bridges.values()].map((b) => sw.bridgeJson(b))));
    this.on('POST', 'bridges', (q) => ok(sw.createBridge({ type: q.type, bridgeId: q.bridgeId, name: q.name })));
    this.on('GET', 'bridges/:id', (_q, p) => ok(sw.bridgeJson(sw.bridge(p.id as string))));
    this.on('DELETE', 'bridges/:id', (_q, p) => {
      sw.destroyBridge(p.id as string);
      return ok();
    });
    const channelList = (q: Query) => {
      if (!q.channel) throw new AriHttpError(400, 'Missing parameter channel');
      return q.channel.split(',');
    };
    this.on('POST', 'bridges/:id/addChannel', (q, p) => {
      sw.addToBridge(p.id as string, channelList(q));
      return ok();
    });
    this.on('POST', 'bridges/:id/removeChannel', (q, p) => {
      sw.removeFromBridge(p.id as string, channelList(q));
      return ok();
    });
    this.on('GET', 'applications', () => ok(sw.appNames().map((a) => sw.appInfo(a))));
    this.on('GET', 'applications/:name', (_q, p) => {
      const info = sw.appInfo(p.name as string);
      if (!info) throw new AriHttpError(404, 'Application not found');
      return ok(info);
    });
    this.on('GET', 'asterisk/ping', () =>
      ok({ asterisk_id: sw.asteriskId, ping: 'pong', timestamp: new Date(sw.clock.now()).toISOString() }),
    );
  }
}

function match(parts: string[], segments: string[]): Record<string, string> | null {
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    const s = segments[i] as string;
    if (p.startsWith(':')) params[p.slice(1)] = s;
    else if (p !== s) return null;
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new AriHttpError(413, 'Request body too large');
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AriHttpError(400, 'Malformed JSON body');
}

function variablesOf(body: Record<string, unknown>): Record<string, string> {
  const v = body.variables;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}
