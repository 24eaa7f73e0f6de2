/**
 * What operators and orchestrators probe: /health (the process is alive and
 * serving), /ready (it can take traffic: the database takes writes, Asterisk's
 * ARI and AMI are connected, or the embedded simulator runs) and /metrics
 * (Prometheus text). Metrics go to loopback clients only, unless
 * http.metricsToken is set: then to whoever presents it as a bearer token.
 */
import { bearerOf, sameSecret } from '../core/net.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { errorAnswers } from './schemas.js';
import { zodRoutes } from './server.js';

export interface OpsProbes {
  health(): Promise<{ status: 'ok'; version: string; node: string; schema: number; uptimeSeconds: number }>;
  /** Each check by name: true when good; a check that does not apply is left out. */
  readiness(): Promise<Record<string, boolean>>;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** When set, /metrics wants it as a bearer token from every client; unset, loopback clients only. */
  metricsToken: string | undefined;
}

const isLoopback = (address: string | undefined) =>
  address !== undefined && (/^127\./.test(address) || address === '::1' || /^::ffff:127\./.test(address));

function mayReadMetrics(request: FastifyRequest, token: string | undefined): boolean {
  if (token === undefined) return isLoopback(request.socket.remoteAddress);
  return sameSecret(bearerOf(request.headers.authorization) ?? '', token);
}

export function opsPlugin(probes: OpsProbes) {
  return async (base: FastifyInstance): Promise<void> => {
    const app = zodRoutes(base);
    app.get(
      '/health',
      {
        schema: {
          summary: 'Alive: the process serves requests',
          tags: ['operations'],
          security: [],
          response: {
            200: z.object({
              status: z.literal('ok'),
              version: z.string(),
              node: z.string(),
              schema: z.number().int(),
              uptimeSeconds: z.number().int(),
            }),
          },
        },
      },
      async (_request, reply) => reply.header('cache-control', 'no-store').send(await probes.health()),
    );

    app.get(
      '/ready',
      {
        schema: {
          summary: 'Ready for traffic: the database takes writes, ARI and AMI are connected',
          tags: ['operations'],
          security: [],
          response: {
            200: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.boolean()) }),
            ...errorAnswers(503),
          },
        },
      },
      async (_request, reply) => {
        const checks = await probes.readiness();
        const failing = Object.keys(checks).filter((k) => !checks[k]);
        if (failing.length > 0) throw new AppError('WEB_NOT_READY', `not ready: ${failing.join(', ')}`, { checks });
        return reply.header('cache-control', 'no-store').send({ status: 'ready' as const, checks });
      },
    );

    app.get(
      '/metrics',
      {
        schema: {
          summary: 'Prometheus metrics (text exposition format)',
          tags: ['operations'],
          security: [{ bearer: [] }],
          response: { 200: z.string().describe('text/plain; version=0.0.4'), ...errorAnswers(403) },
        },
      },
      async (request, reply) => {
        if (!mayReadMetrics(request, probes.metricsToken))
          throw new AppError(
            'WEB_METRICS_FORBIDDEN',
            'metrics are for loopback clients or holders of the metrics token',
          );
        const { contentType, body } = await probes.metrics();
        return reply
          .header('cache-control', 'no-store')
          .type(contentType)
          .serializer((s: unknown) => String(s))
          .send(body);
      },
    );
  };
}
