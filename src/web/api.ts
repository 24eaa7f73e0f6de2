/**
 * The JSON API for rich clients, under /api/v1 (described by the OpenAPI
 * document it serves at /api/v1/openapi.json). Thin handlers: parse, ask the
 * presence service, answer; every failure is a coded error body.
 */
import type { User } from '../accounts/types.js';
import type { Services } from '../app.js';
import { AppError } from '../core/errors.js';
import type { ImSession } from '../presence/types.js';
import { resolveAuth, sendRedirect, type WebAuth } from './auth.js';
import { type Handler, type RequestContext, type Router, readJson, sendJson } from './http-server.js';
import { clientAddress, type WebLimits } from './limits.js';
import { openApiDocument } from './openapi.js';

export type AuthedHandler = (ctx: RequestContext, auth: WebAuth) => Promise<void> | void;

/** Wraps a handler: 401 without a valid token, 307 to the holder of the session object. */
export function apiAuthed(services: Services, handler: AuthedHandler): Handler {
  return async (ctx) => {
    const r = resolveAuth(ctx.req, ctx.url, services.presence.objects, services.accounts);
    if (r.kind === 'redirect') return sendRedirect(ctx.res, 307, r.location);
    if (r.kind === 'none')
      throw new AppError('WEB_UNAUTHORIZED', 'log in first (a bearer token is missing or expired)');
    // A cookie rides along on requests other sites make: it may read, never change.
    if (r.auth.via === 'cookie' && ctx.req.method !== 'GET' && ctx.req.method !== 'HEAD')
      throw new AppError('WEB_CSRF_FAILED', 'changes through the API need the bearer token, not the page cookie');
    await handler(ctx, r.auth);
  };
}

/** A user named by username, account number or numeric id. */
export function userRef(services: Services, ref: unknown): User {
  const user =
    typeof ref === 'number'
      ? services.accounts.userById(ref)
      : typeof ref === 'string' && ref.length <= 64
        ? /^\d+$/.test(ref)
          ? (services.accounts.userById(Number(ref)) ?? services.accounts.findUser(ref))
          : services.accounts.findUser(ref)
        : null;
  if (!user) throw new AppError('PRESENCE_USER_NOT_FOUND', `no user ${JSON.stringify(ref)?.slice(0, 40)}`);
  return user;
}

export function sessionView(services: Services, s: ImSession) {
  return {
    id: s.id,
    ownerId: s.ownerId,
    createdAt: s.createdAt,
    members: s.members.map((m) => {
      const u = services.accounts.userById(m.userId);
      return { userId: m.userId, username: u?.username ?? null, displayName: u?.displayName ?? null, state: m.state };
    }),
  };
}

export async function login(
  services: Services,
  limits: WebLimits,
  attempt: { username: unknown; password: unknown; client: string; address: string },
): Promise<{ token: string; user: User; object: WebAuth['object'] }> {
  const { username, password, client, address } = attempt;
  if (typeof username !== 'string' || typeof password !== 'string')
    throw new AppError('WEB_BAD_REQUEST', 'give a username and a password');
  limits.checkLogin(address, username);
  const r = await services.accounts.validatePassword(username, password);
  if (!r.ok) {
    if (r.reason === 'locked')
      throw new AppError('ACCOUNTS_LOCKED', 'too many failed tries; the account is locked for a while');
    throw new AppError('ACCOUNTS_BAD_CREDENTIALS', 'wrong username or password');
  }
  const { object, token } = services.presence.objects.create(r.user.id, client);
  return { token, user: r.user, object };
}

/**
 * Mounts the JSON API. `endObject` cuts the live connections of a session
 * object that has ended (log-out, another session's password change).
 */
export function mountApi(
  router: Router,
  services: Services,
  limits: WebLimits,
  endObject: (objectId: string) => void,
): void {
  const { presence } = services;
  const limit = services.config.http.bodyLimitBytes;
  const authed = (h: AuthedHandler) => apiAuthed(services, h);
  const body = (ctx: RequestContext) => readJson(ctx.req, limit);

  router.get('/api/v1/openapi.json', ({ res }) => sendJson(res, 200, openApiDocument()));

  router.post('/api/v1/login', async (ctx) => {
    const b = await body(ctx);
    const { token, user, object } = await login(services, limits, {
      username: b.username,
      password: b.password,
      client: 'api',
      address: clientAddress(ctx.req),
    });
    sendJson(ctx.res, 201, {
      token,
      sessionObjectId: object.id,
      user: { id: user.id, username: user.username, displayName: user.displayName },
    });
  });

  router.post(
    '/api/v1/logout',
    authed(({ res }, auth) => {
      presence.objects.end(auth.object.id);
      endObject(auth.object.id);
      res.writeHead(204).end();
    }),
  );

  // A new password ends every other session of the user (a thief's included); the one that changed it goes on.
  router.post(
    '/api/v1/password',
    authed(async (ctx, auth) => {
      const b = await body(ctx);
      if (typeof b.currentPassword !== 'string' || typeof b.newPassword !== 'string')
        throw new AppError('WEB_BAD_REQUEST', 'give currentPassword and newPassword');
      limits.checkLogin(clientAddress(ctx.req), auth.user.username);
      const r = await services.accounts.validatePassword(auth.user.username, b.currentPassword);
      if (!r.ok) {
        if (r.reason === 'locked')
          throw new AppError('ACCOUNTS_LOCKED', 'too many failed tries; the account is locked for a while');
        throw new AppError('ACCOUNTS_BAD_CREDENTIALS', 'the current password is wrong');
      }
      await services.accounts.setPassword(auth.user.id, b.newPassword);
      let ended = 0;
      for (const o of presence.objects.ofUser(auth.user.id)) {
        if (o.id === auth.object.id) continue;
        presence.objects.end(o.id);
        endObject(o.id);
        ended++;
      }
      sendJson(ctx.res, 200, { changed: true, endedSessions: ended });
    }),
  );

  router.get(
    '/api/v1/me',
    authed(({ res }, { user, object }) =>
      sendJson(res, 200, {
        user: { id: user.id, username: user.username, displayName: user.displayName },
        presence: presence.presenceOf(user.id),
        sessionObjectId: object.id,
        cursor: object.cursor,
      }),
    ),
  );

  router.on(
    'PUT',
    '/api/v1/presence',
    authed(async (ctx, { user }) => {
      const b = await body(ctx);
      sendJson(
        ctx.res,
        200,
        presence.setPresence(user.id, b.state as never, b.statusText as string | null | undefined),
      );
    }),
  );

  router.get(
    '/api/v1/contacts',
    authed(({ res }, { user }) =>
      sendJson(res, 200, { contacts: presence.contacts(user.id), requests: presence.contactRequests(user.id) }),
    ),
  );

  router.post(
    '/api/v1/contacts',
    authed(async (ctx, { user }) => {
      const b = await body(ctx);
      const target = userRef(services, b.username ?? b.userId);
      sendJson(ctx.res, 200, { userId: target.id, subscription: presence.requestContact(user.id, target.id) });
    }),
  );

  router.post(
    '/api/v1/contacts/:userId/approve',
    authed(({ res, params }, { user }) => {
      presence.approveContact(user.id, userRef(services, params.userId).id);
      sendJson(res, 200, { contacts: presence.contacts(user.id) });
    }),
  );

  router.post(
    '/api/v1/contacts/:userId/decline',
    authed(({ res, params }, { user }) => {
      presence.declineContact(user.id, userRef(services, params.userId).id);
      res.writeHead(204).end();
    }),
  );

  router.on(
    'DELETE',
    '/api/v1/contacts/:userId',
    authed(({ res, params }, { user }) => {
      presence.removeContact(user.id, userRef(services, params.userId).id);
      res.writeHead(204).end();
    }),
  );

  router.get(
    '/api/v1/sessions',
    authed(({ res }, { user }) =>
      sendJson(res, 200, { sessions: presence.sessionsOf(user.id).map((s) => sessionView(services, s)) }),
    ),
  );

  router.post(
    '/api/v1/sessions',
    authed(async (ctx, { user }) => {
      const b = await body(ctx);
      if (!Array.isArray(b.invitees))
        throw new AppError('PRESENCE_INVALID_INPUT', 'invitees must be a list of usernames or user ids');
      const ids = b.invitees.map((r: unknown) => userRef(services, r).id);
      sendJson(ctx.res, 201, sessionView(services, presence.createSession(user.id, ids)));
    }),
  );

  router.get(
    '/api/v1/sessions/:id',
    authed(({ res, params }, { user }) =>
      sendJson(res, 200, sessionView(services, presence.session(params.id as string, user.id))),
    ),
  );

  router.post(
    '/api/v1/sessions/:id/invite',
    authed(async (ctx, { user }) => {
      const b = await body(ctx);
      const invitee = userRef(services, b.username ?? b.userId);
      sendJson(ctx.res, 200, sessionView(services, presence.invite(ctx.params.id as string, user.id, invitee.id)));
    }),
  );

  for (const action of ['accept', 'decline', 'leave'] as const)
    router.post(
      `/api/v1/sessions/:id/${action}`,
      authed(({ res, params }, { user }) =>
        sendJson(res, 200, sessionView(services, presence[action](params.id as string, user.id))),
      ),
    );

  router.get(
    '/api/v1/sessions/:id/messages',
    authed(({ res, params, url }, { user }) => {
      const after = url.searchParams.get('after');
      const lim = url.searchParams.get('limit');
      const messages = presence.history(user.id, params.id as string, {
        ...(after ? { afterId: after } : {}),
        ...(lim && /^\d{1,4}$/.test(lim) ? { limit: Number(lim) } : {}),
      });
      sendJson(res, 200, { messages });
    }),
  );

  router.post(
    '/api/v1/sessions/:id/messages',
    authed(async (ctx, { user }) => {
      const b = await body(ctx);
      limits.checkPost(user.id);
      const message = await presence.postMessage({
        sessionId: ctx.params.id as string,
        fromUserId: user.id,
        text: b.text as string,
      });
      sendJson(ctx.res, 201, message);
    }),
  );

  router.get(
    '/api/v1/unread',
    authed(({ res, url }, { user }) => {
      const s = url.searchParams.get('session');
      sendJson(res, 200, { messages: presence.unread(user.id, s ?? undefined) });
    }),
  );

  router.post(
    '/api/v1/read',
    authed(async (ctx, { user }) => {
      const b = await body(ctx);
      sendJson(ctx.res, 200, { read: presence.markRead(user.id, b.messageIds as string[]) });
    }),
  );
}
