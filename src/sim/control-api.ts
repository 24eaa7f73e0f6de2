/**
 * The simulator's control API, on its own listener: what a browser dev phone
 * and the CLI use to place calls, press keys, speak, hang up and script
 * callees. JSON in and out; errors are the registry's coded bodies.
 *
 * Only what a local developer means to do gets through: every request carries
 * the simulator's token (`authorization: Bearer <token>`, or `?token=` where a
 * header cannot be set, as for EventSource); bodies are JSON only as
 * `application/json` and speech only as `audio/wav` (415 otherwise), so a web
 * page cannot post a "simple" cross-origin request; no CORS headers are ever
 * sent; and the keys a caller pressed (PINs) are never echoed or listed.
 */
import { bearerOf, sameSecret } from '../core/net.js';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { AppError } from '../core/errors.js';
import { type Handler, type Router, readBody, readJson, sendJson } from './http-server.js';
import type { Simulator } from './index.js';
import type { VirtualCaller } from './virtual-caller.js';

const placeSchema = z
  .object({
    from: z.string().min(1).max(32),
    to: z.string().min(1).max(32),
    name: z.string().max(64).optional(),
    device: z.string().max(81).optional(),
    toApp: z.boolean().optional(),
  })
  .strict();
const keysSchema = z
  .object({ digits: z.string().regex(/^[0-9*#A-D]{1,64}$/), gapMs: z.number().int().min(0).max(60_000).optional() })
  .strict();
const calleeSchema = z
  .object({
    behavior: z.enum(['answer', 'busy', 'no-answer', 'machine', 'unreachable', 'phone']),
    answerAfterMs: z.number().int().min(0).max(600_000).optional(),
    keys: z
      .array(
        z.object({ afterMs: z.number().int().min(0).max(600_000), digits: z.string().regex(/^[0-9*#A-D]{1,64}$/) }),
      )
      .max(32)
      .optional(),
    greetingMs: z.number().int().min(0).max(120_000).optional(),
    hangupAfterMs: z.number().int().min(0).max(3_600_000).optional(),
  })
  .strict();
const deviceSchema = z
  .object({ state: z.enum(['NOT_INUSE', 'INUSE', 'BUSY', 'INVALID', 'UNAVAILABLE', 'RINGING', 'RINGINUSE', 'ONHOLD']) })
  .strict();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new AppError('SIM_INVALID_INPUT', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

/** The token from the authorization header or the query; undefined when neither carries one. */
export function presentedToken(req: IncomingMessage, url: URL): string | undefined {
  return bearerOf(req.headers.authorization) ?? url.searchParams.get('token') ?? undefined;
}

function requireType(req: IncomingMessage, types: readonly string[]): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!types.includes(type))
    throw new AppError('SIM_UNSUPPORTED_MEDIA_TYPE', `send the body as ${types.join(' or ')}`, {
      contentType: type || undefined,
    });
}

const JSON_TYPES = ['application/json'] as const;
const WAV_TYPES = ['audio/wav', 'audio/x-wav', 'audio/wave'] as const;

async function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  requireType(req, JSON_TYPES);
  return readJson(req, limit);
}

function view(c: VirtualCaller): Record<string, unknown> {
  return {
    channelId: c.channelId,
    direction: c.direction,
    number: c.number,
    isUp: c.isUp,
    keysPressedCount: c.keysPressed.length,
    playbacks: c.playbacks.map((p) => ({
      id: p.id,
      media: p.media,
      state: p.state,
      startedAt: p.startedAt,
      endedAt: p.endedAt,
      stopped: p.stopped,
      bargedIn: p.bargedIn,
    })),
  };
}

/** Mounts the control API; every route wants `token`. */
/** Wraps a handler so that it runs only for a request that presents `token` (compared in constant time). */
export function tokenGuard(token: string): (h: Handler) => Handler {
  return (h) => (ctx) => {
    const got = presentedToken(ctx.req, ctx.url);
    if (got === undefined || !sameSecret(got, token))
      throw new AppError('SIM_UNAUTHORIZED', 'the control API needs its token');
    return h(ctx);
  };
}

export function mountControlApi(outer: Router, sim: Simulator, token: string): void {
  const guard = tokenGuard(token);
  const router = {
    get: (p: string, h: Handler) => outer.get(p, guard(h)),
    post: (p: string, h: Handler) => outer.post(p, guard(h)),
    on: (m: string, p: string, h: Handler) => outer.on(m, p, guard(h)),
  };
  const caller = (id: string | undefined): VirtualCaller => {
    const c = id === undefined ? undefined : sim.callers.get(id);
    if (!c) throw new AppError('SIM_CALL_NOT_FOUND', 'no live call with that id', { channelId: id });
    return c;
  };
  router.get('/sim/status', ({ res }) =>
    sendJson(res, 200, {
      ariUrl: sim.ariUrl,
      amiPort: sim.amiPort,
      app: sim.app,
      calls: sim.callers.size,
      webSockets: sim.ari.webSocketCount,
    }),
  );
  router.get('/sim/calls', ({ res }) => sendJson(res, 200, [...sim.callers.values()].map(view)));
  router.post('/sim/calls', async ({ req, res }) => {
    const body = parse(placeSchema, await readJsonBody(req, 4096));
    const c = sim.placeCall(body);
    sendJson(res, 201, view(c));
  });
  router.get('/sim/calls/:id', ({ res, params }) => sendJson(res, 200, view(caller(params.id))));
  router.post('/sim/calls/:id/keys', async ({ req, res, params }) => {
    const c = caller(params.id);
    const body = parse(keysSchema, await readJsonBody(req, 4096));
    void c.pressKeys(body.digits, { gapMs: body.gapMs }).catch(() => {});
    sendJson(res, 202, { accepted: body.digits.length });
  });
  router.post('/sim/calls/:id/speech', async ({ req, res, params, url }) => {
    const c = caller(params.id);
    requireType(req, WAV_TYPES);
    const wav = await readBody(req, 16 * 1024 * 1024);
    // ?continues=1: a piece of a microphone stream, heard right after the piece before it.
    const said = c.speak(wav, { continues: url.searchParams.get('continues') === '1' });
    said.catch(() => {});
    // A bad file is refused at once; good speech plays on after the reply.
    await Promise.race([said, new Promise((r) => setImmediate(r))]);
    sendJson(res, 202, { accepted: wav.length });
  });
  router.post('/sim/calls/:id/hangup', async ({ res, params }) => {
    const end = await caller(params.id).hangup();
    sendJson(res, 200, end);
  });
  router.on('PUT', '/sim/callees/:key', async ({ req, res, params }) => {
    const body = parse(calleeSchema, await readJsonBody(req, 16 * 1024));
    sim.setCallee(params.key as string, body);
    const { keys, ...rest } = body;
    // The scripted keys may be a PIN: say how many, never which.
    sendJson(res, 200, { callee: params.key, ...rest, ...(keys ? { keys: keys.length } : {}) });
  });
  router.get('/sim/attempts', ({ res }) =>
    sendJson(
      res,
      200,
      sim.softswitch.attempts.map((a) => ({
        endpoint: a.endpoint,
        callee: a.callee,
        callerId: a.callerId,
        outcome: a.outcome,
        channelId: a.caller?.channelId,
      })),
    ),
  );
  router.on('PUT', '/sim/devices/:device', async ({ req, res, params }) => {
    const body = parse(deviceSchema, await readJsonBody(req, 4096));
    sim.setDeviceState(params.device as string, body.state);
    sendJson(res, 200, { device: params.device, state: body.state });
  });
}
