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
import { apiDeclaration, DECLARED_RESOURCES, resourceListing } from './ari-declarations.js';
import { defineAriRoutes, type Query, type Reply, type RouteHandler } from './ari-routes.js';
import { type AriEvent, AriHttpError, type Softswitch } from './softswitch.js';

const MAX_BODY = 1024 * 1024;
const EVENT_LOG_LIMIT = 20_000;

export interface AriServerOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Where `GET /sounds` looks. */
  soundsDir: string;
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
      for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
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
      send({ status: 401, body: { message: 'Authentication required' } });
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
    // As on Asterisk, a literal segment wins over a {parameter} (POST /channels/create is not an originate).
    const path = this.routes.find((r) => match(r.parts, decoded))?.parts.join('/');
    const candidates = this.routes.filter((r) => r.parts.join('/') === path);
    const allowed = candidates.map((r) => r.method);
    for (const r of candidates) {
      const params = match(r.parts, decoded);
      if (!params || r.method !== method) continue;
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
    if (allowed.length > 0) {
      res.setHeader('allow', [...new Set(allowed)].join(','));
      send({ status: 405, body: { message: 'Invalid method' } });
    } else send({ status: 404, body: { message: 'Resource not found' } });
  }

  private on(method: string, pattern: string, handler: RouteHandler): void {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
    // Most specific first: at the first segment where two patterns differ, a literal beats a parameter.
    const rank = (parts: string[]) => parts.map((x) => (x.startsWith(':') ? '1' : '0')).join('');
    this.routes.sort((a, b) => rank(a.parts).localeCompare(rank(b.parts)));
  }

  private defineRoutes(): void {
    const base = (p: Record<string, string>) => `http://${p.host}/ari`;
    this.on('GET', 'api-docs/resources.json', (_q, p) => ({ status: 200, body: resourceListing(base(p)) }));
    this.on('GET', 'api-docs/:file', (_q, p) => {
      const decl = apiDeclaration((p.file ?? '').replace(/\.json$/, ''), base(p));
      if (!decl) throw new AriHttpError(404, 'Resource not found');
      return { status: 200, body: decl };
    });
    defineAriRoutes((m, pattern, h) => this.on(m, pattern, h), this.sw, {
      soundsDir: this.opts.soundsDir,
      startedAt: this.sw.clock.now(),
    });
    // The rest of Asterisk's listing: declared, so any client connects; answered as Asterisk
    // answers a method it has no handler for.
    for (const name of DECLARED_RESOURCES)
      for (const api of apiDeclaration(name, '')?.apis ?? [])
        for (const op of api.operations) {
          const pattern = api.path.replace(/\{(\w+)\}/g, ':$1');
          if (op.upgrade) continue;
          const parts = pattern.split('/').filter(Boolean);
          if (this.routes.some((r) => r.method === op.httpMethod && r.parts.join('/') === parts.join('/'))) continue;
          this.on(op.httpMethod, pattern, () => {
            throw new AriHttpError(501, 'Method not implemented');
          });
        }
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
