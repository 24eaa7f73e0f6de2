/**
 * Federation's HTTP face, as a Fastify plugin:
 * - GET  /federation/v1/whoami: our name, URL and public key (public, unsigned);
 * - POST /federation/v1/ping, /federation/v1/events: signed by a peer (signing.ts);
 * - POST /api/v1/federation/invite: a logged-in user invites user@community.
 * Signed routes read the body as bytes (the digest is over the bytes), check
 * the signature before anything else, then the peer's rate, then parse JSON.
 * Every refusal is logged with the peer and changes nothing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { AppError, isAppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { sendAppError } from '../web/server.js';
import type { FederationService } from './federation-service.js';
import { type VerifiedRequest, verifyRequest } from './signing.js';
import type { FederationStore } from './ports.js';

export interface FederationRouteDeps {
  federation: FederationService;
  store: FederationStore;
  config: Pick<Config, 'federation'>;
  clock: Clock;
  log: Logger;
  /** The logged-in user of an API request (the web's bearer token), or a thrown WEB_UNAUTHORIZED. */
  userOf: (request: FastifyRequest) => number | Promise<number>;
}

/** Signed requests per peer per minute (fixed windows, in memory). */
class PeerRate {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(private readonly perMinute: number) {}

  take(peer: string, now: number): number | null {
    let w = this.windows.get(peer);
    if (!w || now - w.start >= 60_000) {
      w = { start: now, count: 0 };
      this.windows.set(peer, w);
    }
    if (w.count >= this.perMinute) return Math.ceil((w.start + 60_000 - now) / 1000);
    w.count++;
    return null;
  }
}

export function federationPlugin(deps: FederationRouteDeps) {
  const { federation, store, config, clock, log } = deps;
  const rate = new PeerRate(config.federation.requestsPerPeerPerMinute);

  const refuse = (reply: FastifyReply, request: FastifyRequest, e: unknown, peer?: string) => {
    const error = isAppError(e) ? e : new AppError('CORE_INTERNAL', 'internal error');
    if (!isAppError(e)) log.error({ err: e, peer }, 'federation request failed');
    else log.warn({ peer, code: error.code, path: request.url, why: error.message }, 'federation request refused');
    return sendAppError(reply, error);
  };

  const verified = async (request: FastifyRequest): Promise<VerifiedRequest> => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const v = await verifyRequest(
      { method: request.method, url: request.url, headers: request.headers, body },
      {
        keyOf: (peer) => federation.keyOf(peer),
        claimNonce: (peer, nonce, expiresAt) => store.claimNonce(peer, nonce, clock.now(), expiresAt),
        now: clock.now(),
        maxSkewSeconds: config.federation.maxClockSkewSeconds,
      },
    );
    const wait = rate.take(v.peer, clock.now());
    if (wait !== null)
      throw new AppError('FEDERATION_RATE_LIMITED', `too many requests from ${v.peer}`, { retryAfterSeconds: wait });
    return v;
  };

  const json = (request: FastifyRequest): unknown => {
    try {
      return JSON.parse((request.body as Buffer).toString('utf8'));
    } catch {
      throw new AppError('FEDERATION_BAD_REQUEST', 'the body is not valid JSON');
    }
  };

  return async (app: FastifyInstance) => {
    await app.register(async (s2s) => {
      // Bytes, whatever the content type: the digest and signature are over them.
      s2s.removeAllContentTypeParsers();
      s2s.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.federation.maxBodyBytes }, (_r, b, done) =>
        done(null, b),
      );
      s2s.get('/federation/v1/whoami', async () => federation.whoami());
      s2s.post('/federation/v1/ping', async (request, reply) => {
        let peer: string | undefined;
        try {
          peer = (await verified(request)).peer;
          return { name: federation.domain, peer };
        } catch (e) {
          return refuse(reply, request, e, peer);
        }
      });
      s2s.post('/federation/v1/events', async (request, reply) => {
        let peer: string | undefined;
        try {
          peer = (await verified(request)).peer;
          return await federation.receive(peer, json(request));
        } catch (e) {
          return refuse(reply, request, e, peer);
        }
      });
    });
    app.post('/api/v1/federation/invite', async (request) => {
      const userId = await deps.userOf(request);
      const body = (request.body ?? {}) as { to?: unknown; sessionId?: unknown };
      if (body.sessionId !== undefined && typeof body.sessionId !== 'string')
        throw new AppError('FEDERATION_INVALID_INPUT', 'sessionId must be a string', { field: 'sessionId' });
      const to = typeof body.to === 'string' ? [body.to] : body.to;
      const session = await federation.invite(userId, to, body.sessionId as string | undefined);
      return await federation.view(session);
    });
  };
}
