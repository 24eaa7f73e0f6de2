/**
 * The platform's one HTTP server (Fastify): each capability registers its
 * routes on it as a plugin (web: the JSON API, the WebSocket and the thin
 * clients; audio: the media routes), the composition root adds health,
 * readiness and metrics. Rules:
 * - Every failure leaves as the registry's `{error: {code, message}}` with the
 *   code's status; Fastify's own refusals (bad JSON, too large, unsupported
 *   type, failed validation) are mapped onto registered codes. Nothing of an
 *   unexpected error leaks; it is logged.
 * - Request shapes are zod schemas (fastify-type-provider-zod): the same
 *   schemas validate, serialise and feed the generated OpenAPI document. A
 *   route names the code its field errors take (`config.invalidInput`); a body
 *   that is not a JSON object at all is WEB_BAD_REQUEST.
 * - One log line per request, from the platform's pino logger: request id,
 *   method, path with its secrets masked (?token=, ?s=, ?t=, the signature of
 *   a media URL), status, time, user. Authorization and cookies never appear.
 * - A path served with another method answers 405 with Allow.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { AppError, ERRORS, type ErrorCode, isAppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The code a field that fails the route's schema is refused with (default WEB_BAD_REQUEST). */
    invalidInput?: ErrorCode;
  }
  interface FastifyRequest {
    /** Who made the request, once known (for the log line). */
    userName: string | undefined;
  }
  interface FastifyInstance {
    /** Every route registered (HEAD twins left out), for the check that the document shows them all. */
    routeList: readonly { method: string | string[]; url: string }[];
    /** The port the server listens on (once it does). */
    readonly port: number;
  }
}

export type WebServer = FastifyInstance;

export interface WebServerOptions {
  log: Logger;
  bodyLimitBytes: number;
  /** Largest WebSocket frame accepted. */
  wsMaxPayloadBytes: number;
  /** A longer request target (path and query) is answered 414. */
  maxUrlBytes: number;
  /** The request line and headers; over it 431, or 414 when the request line alone is over the URL limit. */
  maxHeaderBytes: number;
}

/** Writes a coded error on a socket the HTTP parser gave up on, then closes it without a reset. */
function answerOnSocket(socket: Duplex, error: AppError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: error.toJSON() });
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // The client may still be sending (the rest of a huge URL): read and drop it, so that closing does not reset
  // the connection before the answer is read; give up after a while.
  socket.resume();
  setTimeout(() => socket.destroy(), 2000).unref();
}

/**
 * What the HTTP parser refuses (bad HTTP, a URL or headers over the limits)
 * gets a coded answer; a peer's reset is only closed. Nothing a peer sends to
 * a socket ends the process.
 */
function clientErrorHandler(maxUrlBytes: number, maxHeaderBytes: number) {
  return (error: Error, socket: Duplex): void => {
    const e = error as NodeJS.ErrnoException & { rawPacket?: unknown };
    if (socket.listenerCount('error') === 0) socket.on('error', () => socket.destroy());
    if (e.code === 'ECONNRESET' || e.code === 'EPIPE') {
      socket.destroy();
      return;
    }
    if (e.code === 'HPE_HEADER_OVERFLOW') {
      // More than maxHeaderBytes: a request line with no end in sight is the URL's fault.
      const raw = Buffer.isBuffer(e.rawPacket) ? e.rawPacket.toString('latin1') : '';
      const lineEnd = raw.indexOf('\r\n');
      const isUrl = lineEnd < 0 ? raw.length > maxUrlBytes || raw.length === 0 : lineEnd > maxUrlBytes;
      answerOnSocket(
        socket,
        isUrl
          ? new AppError('WEB_URL_TOO_LONG', `the URL is over ${maxUrlBytes} bytes`)
          : new AppError('WEB_HEADERS_TOO_LARGE', `the request headers are over ${maxHeaderBytes} bytes`),
      );
      return;
    }
    answerOnSocket(socket, new AppError('WEB_BAD_REQUEST', 'the request is not valid HTTP/1.1'));
  };
}

const SECRET_QUERY = /([?&](?:token|s|t|api_key)=)[^&#]*/gi;
const MEDIA_SIGNATURE = /^(\/audio\/[^/]+\/[^/]+\/)[^/.?]+/;

/** A request target as it may be logged: tokens in the query and media URL signatures masked. */
export function loggablePath(url: string): string {
  return url.replace(SECRET_QUERY, '$1[redacted]').replace(MEDIA_SIGNATURE, '$1[redacted]');
}

const byStatus: Record<number, ErrorCode> = {
  404: 'WEB_NOT_FOUND',
  405: 'WEB_METHOD_NOT_ALLOWED',
  413: 'WEB_PAYLOAD_TOO_LARGE',
  415: 'WEB_UNSUPPORTED_MEDIA_TYPE',
};

/** Any error thrown while serving a request, as the registry's coded error (null: an unexpected fault). */
export function toAppError(e: unknown, request?: FastifyRequest): AppError | null {
  if (isAppError(e)) return e;
  const fe = e as FastifyError & { validationContext?: string };
  if (Array.isArray(fe.validation)) {
    const issues = fe.validation.map((v) => ({ path: v.instancePath, message: v.message }));
    const isRoot = fe.validationContext === 'body' && issues.some((i) => i.path === '/' || i.path === '');
    if (isRoot) return new AppError('WEB_BAD_REQUEST', 'the body must be a JSON object');
    const code = request?.routeOptions.config.invalidInput ?? 'WEB_BAD_REQUEST';
    const first = issues[0];
    const field = first?.path.replace(/^\//, '').replace(/\//g, '.') || fe.validationContext || 'request';
    return new AppError(code, `${field}: ${first?.message ?? 'invalid'}`, { issues });
  }
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return new AppError('WEB_BAD_REQUEST', 'the body is not valid JSON');
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new AppError('WEB_PAYLOAD_TOO_LARGE', 'the body is over the size limit');
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new AppError('WEB_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json (or a form, for pages)');
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = byStatus[status] ?? 'WEB_BAD_REQUEST';
    return new AppError(code, status === 400 ? 'the request is malformed' : ERRORS[code].doc);
  }
  return null;
}

/** Retry-After for an error that says when to try again. */
export function retryHeaders(error: AppError): Record<string, string> {
  const after = error.details?.retryAfterSeconds;
  return typeof after === 'number' ? { 'retry-after': String(after) } : {};
}

/** Sends a coded error as JSON (the API's shape). */
export function sendAppError(reply: FastifyReply, error: AppError): FastifyReply {
  return reply
    .headers(retryHeaders(error))
    .code(error.status)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send({ error: error.toJSON() });
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

/**
 * One line per request when it is done (Fastify's default is two, with the
 * whole request object): no headers, so no Authorization or Cookie, and the
 * path with its secrets masked.
 */
class RequestLog extends LogController {
  constructor(private readonly log: Logger) {
    super();
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    // The line (its masked path) is made only when it is written: at level warn and above, only failures are.
    if (!error && !this.log.isLevelEnabled('info')) return;
    const line = {
      method: request.method,
      path: loggablePath(request.url),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ...(request.userName ? { user: request.userName } : {}),
    };
    if (error) reply.log.error({ ...line, err: error }, 'request failed');
    else reply.log.info(line, 'request');
  }
}

/**
 * The generated document's view of a route: zod schemas as JSON Schema; the
 * WebSocket (which @fastify/websocket hides) and the document itself shown too.
 */
const describeRoute: typeof jsonSchemaTransform = (route) => {
  if (route.url === '/api/v1/ws')
    return {
      url: route.url,
      schema: {
        summary:
          'The WebSocket for live updates (upgrade with ?token= or the page cookie; JSON frames, see the description)',
        tags: ['presence'],
        response: { 101: { description: 'Switching protocols' } },
      },
    };
  if (route.url === '/api/v1/openapi.json')
    return { url: route.url, schema: { summary: 'This document (OpenAPI 3.1)', tags: ['session'], security: [] } };
  return jsonSchemaTransform(route);
};

export function createWebServer(opts: WebServerOptions): WebServer {
  const routes: { method: string | string[]; url: string }[] = [];
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    logController: new RequestLog(opts.log),
    http: { maxHeaderSize: opts.maxHeaderBytes },
    clientErrorHandler: clientErrorHandler(
      opts.maxUrlBytes,
      opts.maxHeaderBytes,
    ) as FastifyServerOptions['clientErrorHandler'],
    // A path that cannot be decoded, or a segment longer than any id we hand out, names nothing we have.
    frameworkErrors: (_e, _request, reply) => sendAppError(reply, new AppError('WEB_NOT_FOUND', 'no such resource')),
    genReqId: () => randomUUID(),
    bodyLimit: opts.bodyLimitBytes,
    // Asterisk's media cache, browsers and API clients reuse connections; Node's 5 s default closes an idle
    // socket just as a client may be reusing it (ECONNRESET on the client's next request).
    keepAliveTimeout: 65_000,
    forceCloseConnections: true,
    routerOptions: { ignoreDuplicateSlashes: false },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('userName', undefined);

  // Bodies: JSON (Fastify's own parser) and forms; nothing else is read.
  app.removeContentTypeParser('text/plain');
  app.register(fastifyFormbody, { bodyLimit: opts.bodyLimitBytes });
  app.register(fastifyCookie);
  // Limits are asked for where they apply (web/limits.ts), not hung on every route.
  app.register(fastifyRateLimit, { global: false });
  app.register(fastifyWebsocket, {
    options: { maxPayload: opts.wsMaxPayloadBytes, perMessageDeflate: false },
    // A socket that errors after the upgrade is closed; its link closes with it.
    errorHandler: (_e, socket) => socket.terminate(),
  });
  app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Presence and IM API',
        version: '1',
        description:
          'Log in for a bearer token (the resume token of a session object); send it as `Authorization: Bearer`. ' +
          'Live events come over the WebSocket at /api/v1/ws?token=... (JSON frames: message, presence, invite, ' +
          'member, contact-request, read; send {type:"send",ref,sessionId,text} and get {type:"ack",ref,message}). ' +
          'Every error is `{error: {code, message}}`; the codes are listed in the Error schema.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: describeRoute,
    transformObject: (doc) => ({
      ...jsonSchemaTransformObject(doc),
      // The error registry, each code with its status and meaning (the Error schema's codes).
      'x-error-codes': Object.fromEntries(
        Object.entries(ERRORS).map(([code, spec]) => [code, { status: spec.status, description: spec.doc }]),
      ),
    }),
  });
  // Every route is in the document (a route's schema may hide it; none here does).
  app.addHook('onRoute', (route) => {
    if (route.method !== 'HEAD' && !(Array.isArray(route.method) && route.method.every((m) => m === 'HEAD')))
      routes.push({ method: route.method, url: route.url });
  });
  app.decorate('routeList', routes);
  app.decorate('port', {
    getter(this: FastifyInstance) {
      return (this.server.address() as AddressInfo).port;
    },
  });

  // A URL the parser let through (it fits the header limit) may still be over the URL limit.
  app.addHook('onRequest', async (request) => {
    if (request.url.length > opts.maxUrlBytes)
      throw new AppError('WEB_URL_TOO_LONG', `the URL is over ${opts.maxUrlBytes} bytes`);
  });

  app.setErrorHandler((e, request, reply) => {
    const error = toAppError(e, request);
    if (!error) {
      request.log.error({ err: e, path: loggablePath(request.url) }, 'request failed');
      return sendAppError(reply, new AppError('CORE_INTERNAL', 'internal error'));
    }
    return sendAppError(reply, error);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = METHODS.filter((m) => m !== request.method && app.findRoute({ method: m, url: path }) !== null);
    if (allowed.length > 0 && request.method !== 'HEAD') {
      reply.header('allow', allowed.join(', '));
      return sendAppError(reply, new AppError('WEB_METHOD_NOT_ALLOWED', `${request.method} is not allowed here`));
    }
    return sendAppError(reply, new AppError('WEB_NOT_FOUND', 'no such resource'));
  });
  return app;
}

/** The instance with zod schemas for routes. */
export function zodRoutes(app: FastifyInstance) {
  return app.withTypeProvider<ZodTypeProvider>();
}
