/**
 * The simulator's small HTTP server for its control API (/sim/...): routes
 * matched by method and a path pattern (":name" captures one segment, the
 * first match wins), coded JSON error bodies. It stays on node:http, like the
 * simulator's ARI server, so the simulator carries no dependency on the
 * platform's web layer (Fastify, in src/web).
 */
import { createServer, type IncomingMessage, STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
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

/** Retry-After for an error that says when to try again. */
export function retryHeaders(error: AppError): Record<string, string> {
  const after = error.details?.retryAfterSeconds;
  return typeof after === 'number' ? { 'retry-after': String(after) } : {};
}

export function sendError(res: ServerResponse, error: AppError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, { error: error.toJSON() }, retryHeaders(error));
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
  /** A longer request target is answered 414 (default 8192). */
  maxUrlBytes?: number;
  /** Request line and headers; over it 431, or 414 when the request line alone is over it (default 16 KiB). */
  maxHeaderBytes?: number;
}

/** Writes a coded error on a socket the HTTP parser gave up on, then closes it without a reset. */
function answerOnSocket(socket: Duplex, error: AppError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: error.toJSON() });
  const reason = STATUS_CODES[error.status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // The client may still be sending (the rest of a huge URL): read and drop it, so closing does not reset the
  // connection before the answer is read; give up after a while.
  socket.resume();
  setTimeout(() => socket.destroy(), 2000).unref();
}

/** Every socket that leaves the HTTP server's hands gets an error handler: a peer's reset never ends the process. */
export function guardSocket(socket: Duplex): void {
  if (socket.listenerCount('error') === 0) socket.on('error', () => socket.destroy());
}

export class HttpServer {
  readonly router = new Router();
  private readonly server: Server;
  private readonly log: Logger;
  private readonly upgradeHandlers: ((req: IncomingMessage, socket: Duplex, head: Buffer) => boolean)[] = [];
  private readonly maxUrlBytes: number;

  constructor(private readonly options: HttpServerOptions) {
    this.log = options.log;
    this.maxUrlBytes = options.maxUrlBytes ?? 8192;
    const maxHeaderSize = options.maxHeaderBytes ?? 16 * 1024;
    this.server = createServer({ maxHeaderSize }, (req, res) => void this.handle(req, res));
    this.server.on('clientError', (e: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket) => {
      guardSocket(socket);
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') {
        socket.destroy();
        return;
      }
      if (e.code === 'HPE_HEADER_OVERFLOW') {
        // The parser saw more than maxHeaderSize bytes: a URL with no end of line in sight is the URL's fault.
        const raw = e.rawPacket?.toString('latin1') ?? '';
        const lineEnd = raw.indexOf('\r\n');
        const urlTooLong = lineEnd < 0 ? raw.length > this.maxUrlBytes || raw.length === 0 : lineEnd > this.maxUrlBytes;
        answerOnSocket(
          socket,
          urlTooLong
            ? new AppError('WEB_URL_TOO_LONG', `the URL is over ${this.maxUrlBytes} bytes`)
            : new AppError('WEB_HEADERS_TOO_LARGE', `the request headers are over ${maxHeaderSize} bytes`),
        );
        return;
      }
      answerOnSocket(socket, new AppError('WEB_BAD_REQUEST', 'the request is not valid HTTP/1.1'));
    });
    // Asterisk's media cache, browsers and API clients reuse connections; Node's 5 s default closes an idle
    // socket just as a client may be reusing it (ECONNRESET on the client's next request).
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    this.server.on('upgrade', (req, socket, head) => {
      guardSocket(socket);
      for (const h of this.upgradeHandlers) if (h(req, socket, head)) return;
      answerOnSocket(socket, new AppError('WEB_NOT_FOUND', 'no WebSocket here'));
    });
  }

  /** WebSocket upgrades: a handler returns true when it took the socket. */
  onUpgrade(handler: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean): void {
    this.upgradeHandlers.push(handler);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if ((req.url ?? '').length > this.maxUrlBytes) {
      res.setHeader('connection', 'close');
      sendError(res, new AppError('WEB_URL_TOO_LONG', `the URL is over ${this.maxUrlBytes} bytes`));
      return;
    }
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
