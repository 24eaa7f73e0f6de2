/**
 * The simulator's small HTTP server for its control API (/sim/...): routes
 * matched by method and a path pattern (":name" captures one segment, the
 * first match wins), coded JSON error bodies. It stays on node:http, like the
 * simulator's ARI server, so the simulator carries no dependency on the
 * platform's web layer (Fastify, in src/web).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError, isAppError } from '../core/errors.js';
import { listenOn } from '../core/net.js';
import type { Logger } from '../core/logger.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  log: Logger;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

interface Route {
  method: string;
  parts: string[];
  /** A trailing "*" matches the rest of the path into params['*']. */
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method: method.toUpperCase(), parts: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  get(pattern: string, handler: Handler): this {
    return this.on('GET', pattern, handler);
  }

  post(pattern: string, handler: Handler): this {
    return this.on('POST', pattern, handler);
  }

  /** Finds a handler; `allowed` lists methods of routes whose path matched but method did not. */
  match(
    method: string,
    pathname: string,
  ): { handler: Handler; params: Record<string, string> } | { allowed: string[] } {
    let segments: string[];
    try {
      segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return { allowed: [] };
    }
    const allowed: string[] = [];
    for (const r of this.routes) {
      const params = matchParts(r.parts, segments);
      if (!params) continue;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { handler: r.handler, params };
      allowed.push(r.method);
    }
    return { allowed };
  }
}

function matchParts(parts: string[], segments: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (p === '*') {
      params['*'] = segments.slice(i).join('/');
      return params;
    }
    const s = segments[i];
    if (s === undefined) return null;
    if (p.startsWith(':')) params[p.slice(1)] = s;
    else if (p !== s) return null;
  }
  return parts.length === segments.length ? params : null;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: AppError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, { error: error.toJSON() });
}

/** Reads a request body up to `limit` bytes; over it, WEB_PAYLOAD_TOO_LARGE. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new AppError('WEB_PAYLOAD_TOO_LARGE', `the body is over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new AppError('WEB_PAYLOAD_TOO_LARGE', `the body is over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads and parses a JSON object body; malformed JSON is WEB_BAD_REQUEST. */
export async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const body = await readBody(req, limit);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AppError('WEB_BAD_REQUEST', 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new AppError('WEB_BAD_REQUEST', 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  log: Logger;
}

export class HttpServer {
  readonly router = new Router();
  private readonly server: Server;
  private readonly log: Logger;
  private readonly upgradeHandlers: ((
    req: IncomingMessage,
    socket: import('node:stream').Duplex,
    head: Buffer,
  ) => boolean)[] = [];

  constructor(private readonly options: HttpServerOptions) {
    this.log = options.log;
    this.server = createServer((req, res) => void this.handle(req, res));
    // Asterisk's media cache, browsers and API clients reuse connections; Node's 5 s default closes an idle
    // socket just as a client may be reusing it (ECONNRESET on the client's next request).
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    this.server.on('upgrade', (req, socket, head) => {
      for (const h of this.upgradeHandlers) if (h(req, socket, head)) return;
      socket.destroy();
    });
  }

  /** WebSocket upgrades: a handler returns true when it took the socket. */
  onUpgrade(handler: (req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => boolean): void {
    this.upgradeHandlers.push(handler);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendError(res, new AppError('WEB_BAD_REQUEST', 'malformed URL'));
      return;
    }
    const found = this.router.match(req.method ?? 'GET', url.pathname);
    if ('allowed' in found) {
      if (found.allowed.length > 0) {
        res.setHeader('allow', [...new Set(found.allowed)].join(', '));
        sendError(res, new AppError('WEB_METHOD_NOT_ALLOWED', `${req.method} is not allowed here`));
      } else sendError(res, new AppError('WEB_NOT_FOUND', 'no such resource'));
      return;
    }
    try {
      await found.handler({ req, res, url, params: found.params, log: this.log });
    } catch (e) {
      if (isAppError(e)) sendError(res, e);
      else {
        this.log.error({ err: e, path: url.pathname }, 'request failed');
        sendError(res, new AppError('CORE_INTERNAL', 'internal error'));
      }
    }
  }

  listen(): Promise<number> {
    return listenOn(this.server, this.options.port, this.options.host);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get raw(): Server {
    return this.server;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
