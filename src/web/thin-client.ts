/**
 * The thin client: plain HTML pages that work with JavaScript off (forms and
 * a self-reloading page), live updates over the WebSocket when it is on, and
 * the same pages as WML 1.1 decks for WAP phones (chosen by the Accept
 * header).
 *
 * Rules:
 * - Browsers keep the resume token in an HttpOnly cookie; WML pages carry it
 *   in every URL (`s=`), since many WAP phones keep no cookies.
 * - Every form carries the session object's CSRF token and a POST without it
 *   changes nothing. The log-in form's token is signed, expires, and is bound
 *   to a pre-session cookie of the browser that fetched the form (no log-in
 *   CSRF); WML log-ins set no cookie, so theirs is unbound.
 * - Cookies are Secure when the node is served over TLS: http.publicUrl is
 *   https, or http.trustForwardedProto is on and X-Forwarded-Proto says https.
 * - A reply link logs its user in once: its nonce is recorded, and a second
 *   use gets a page that says so and offers the log-in form.
 * - A refused message (too long, too fast, ...) re-renders the chat with the
 *   error and the typed text, never loses it.
 * - User text is escaped for the page's language (WML also doubles "$").
 * - A thin client counts as a "web" link while it keeps asking for pages
 *   (presence.webLinkIdleSeconds after the last one).
 * - Showing a chat marks the messages on it read.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../app.js';
import type { TimerHandle } from '../core/clock.js';
import { AppError, isAppError } from '../core/errors.js';
import type { ImSession, Link, StoredMessage } from '../presence/types.js';
import { REPLY_LINK_PATH, type ReplyLinkUses, replyLinkSecret, verifyReplyToken } from '../notify/reply-link.js';
import { login } from './api.js';
import { COOKIE, checkCsrf, sendRedirect, type WebAuth, type WebSessions } from './auth.js';
import { clientAddress, type WebLimits } from './limits.js';
import { clockDuration, escapeHtml, pageFormat, readerTime } from './markup.js';
import { renderHdml, renderWml, type WapCard, type WapPart } from './wap-deck.js';
import { LIVE_JS } from './live-script.js';
import { STYLE_CSS } from './style.js';
import { retryHeaders, toAppError } from './server.js';

/** The languages a user can pick on the buddies page: those with a prompt catalogue, in their own words. */
const LANGUAGE_NAMES: [string, string][] = [
  ['en', 'English'],
  ['es', 'Español'],
  ['fr', 'Français'],
  ['de', 'Deutsch'],
];

type Format = 'html' | 'wml' | 'hdml';

/** WML and HDML phones: the token rides in every URL, log-ins set no cookie. */
const isWap = (fmt: Format): fmt is 'wml' | 'hdml' => fmt !== 'html';

/** The pre-session cookie the log-in form's CSRF token is bound to. */
const PRE_COOKIE = 'presid';

/** The pages' Content-Security-Policy: our own scripts, styles, media; forms post only to us. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STATE_LABEL: Record<string, string> = {
  online: 'online',
  'on-the-phone': 'on the phone',
  away: 'away',
  busy: 'busy',
  offline: 'offline',
};

/** One request to a page: Fastify's request and reply, the path parameters. */
interface RequestContext {
  req: FastifyRequest;
  res: FastifyReply;
  params: Record<string, string>;
}

/** A form's fields (parsed by @fastify/formbody); a repeated field gives its first value. */
class FormFields {
  constructor(private readonly body: unknown) {}

  get(name: string): string | null {
    const v = this.body && typeof this.body === 'object' ? (this.body as Record<string, unknown>)[name] : undefined;
    const first = Array.isArray(v) ? v[0] : v;
    return typeof first === 'string' ? first : null;
  }
}

interface PageCtx {
  fmt: Format;
  auth: WebAuth;
}

export class ThinClient {
  private loginKey: Buffer | undefined;
  private replySecret: string | undefined;
  /** The web link of each session object seen lately (a page view keeps the user online for a while). */
  private readonly webLinks = new Map<string, { link: Promise<Link | undefined>; timer: TimerHandle }>();

  constructor(
    private readonly services: Services,
    private readonly limits: WebLimits,
    private readonly replyLinkUses: ReplyLinkUses,
    private readonly sessions: WebSessions,
  ) {}

  /** The thin client's pages, as a plugin; its errors become pages too. */
  plugin() {
    return async (app: FastifyInstance): Promise<void> => {
      const wrap =
        (fn: (ctx: RequestContext) => Promise<unknown> | unknown) => async (req: FastifyRequest, res: FastifyReply) => {
          await fn({ req, res, params: (req.params ?? {}) as Record<string, string> });
          return res;
        };
      const routes = {
        get: (path: string, fn: (ctx: RequestContext) => Promise<unknown> | unknown) =>
          app.get(path, { schema: { summary: `Thin client: ${path}`, tags: ['thin client'] } }, wrap(fn)),
        post: (path: string, fn: (ctx: RequestContext) => Promise<unknown> | unknown) =>
          app.post(path, { schema: { summary: `Thin client form: ${path}`, tags: ['thin client'] } }, wrap(fn)),
      };
      app.setErrorHandler((e, req, res) => {
        const error = toAppError(e, req);
        const fmt = this.fmt(req);
        if (!error) {
          req.log.error({ err: e }, 'page failed');
          const internal = new AppError('CORE_INTERNAL', 'Something went wrong on our side; try again.');
          return this.sendPage(res, fmt, 500, 'Error', this.errorBody(fmt, internal));
        }
        return this.sendPage(res, fmt, error.status, 'Error', this.errorBody(fmt, error), '', retryHeaders(error));
      });
      // The log-in form's key comes from the store once, before the first form is served.
      this.loginKey ??= await this.services.presence.sharedSecret('login-form');
      this.mount(routes);
    };
  }

  private mount(routes: {
    get(path: string, fn: (ctx: RequestContext) => Promise<unknown> | unknown): unknown;
    post(path: string, fn: (ctx: RequestContext) => Promise<unknown> | unknown): unknown;
  }): void {
    routes.get('/', (ctx) => this.home(ctx));
    routes.get('/login', (ctx) => this.loginForm(ctx));
    routes.post('/login', (ctx) => this.loginPost(ctx));
    routes.get(REPLY_LINK_PATH, (ctx) => this.replyLink(ctx));
    routes.get('/static/live.js', ({ res }) =>
      res
        .headers({
          'content-type': 'text/javascript; charset=utf-8',
          'cache-control': 'no-cache',
          'x-content-type-options': 'nosniff',
        })
        .send(LIVE_JS),
    );
    routes.get('/static/style.css', ({ res }) =>
      res
        .headers({
          'content-type': 'text/css; charset=utf-8',
          'cache-control': 'no-cache',
          'x-content-type-options': 'nosniff',
        })
        .send(STYLE_CSS),
    );
    routes.get(
      '/buddies',
      this.page(async (ctx, p) => this.buddies(ctx, p)),
    );
    routes.post(
      '/logout',
      this.form(async (ctx, p) => {
        this.dropWebLink(p.auth.object.id);
        await this.services.presence.objects.end(p.auth.object.id);
        ctx.res.clearCookie(COOKIE, this.cookieOptions(ctx.req));
        sendRedirect(ctx.res, 303, '/login');
      }),
    );
    routes.post(
      '/presence',
      this.form(async (ctx, p, f) => {
        await this.services.presence.setPresence(p.auth.user.id, f.get('state') as never, f.get('statusText'));
        this.back(ctx, p, '/buddies');
      }),
    );
    routes.post(
      '/language',
      this.form(async (ctx, p, f) => {
        const tag = (f.get('language') ?? '').slice(0, 35);
        await this.services.accounts.setLanguage(p.auth.user.id, tag === '' || tag === 'default' ? null : tag);
        this.back(ctx, p, '/buddies');
      }),
    );
    routes.post(
      '/contacts/add',
      this.form(async (ctx, p, f) => {
        const name = f.get('username') ?? '';
        const target = await this.services.accounts.findUser(name.slice(0, 64));
        if (!target) throw new AppError('PRESENCE_USER_NOT_FOUND', `no user "${name.slice(0, 64)}"`);
        await this.services.presence.requestContact(p.auth.user.id, target.id);
        this.back(ctx, p, '/buddies');
      }),
    );
    for (const action of ['approve', 'decline'] as const)
      routes.post(
        `/contacts/${action}`,
        this.form(async (ctx, p, f) => {
          const id = Number(f.get('userId'));
          if (action === 'approve') await this.services.presence.approveContact(p.auth.user.id, id);
          else await this.services.presence.declineContact(p.auth.user.id, id);
          this.back(ctx, p, '/buddies');
        }),
      );
    routes.post(
      '/chat/new',
      this.form(async (ctx, p, f) => {
        const s = await this.services.presence.createSession(p.auth.user.id, [Number(f.get('contactId'))]);
        this.back(ctx, p, `/chat/${s.id}`);
      }),
    );
    routes.get(
      '/chat/:id',
      this.page(async (ctx, p) => this.chat(ctx, p)),
    );
    routes.post(
      '/chat/:id/send',
      this.form(async (ctx, p, f) => {
        const id = ctx.params.id as string;
        const text = f.get('text') ?? '';
        try {
          await this.limits.checkPost(p.auth.user.id);
          await this.services.presence.postMessage({ sessionId: id, fromUserId: p.auth.user.id, text });
        } catch (e) {
          // Refused: the chat again, with why and with what was typed.
          if (!isAppError(e) || e.code === 'PRESENCE_SESSION_NOT_FOUND') throw e;
          await this.chat(ctx, p, { text, error: e });
          return;
        }
        this.back(ctx, p, `/chat/${id}`);
      }),
    );
    for (const action of ['accept', 'decline', 'leave'] as const)
      routes.post(
        `/chat/:id/${action}`,
        this.form(async (ctx, p) => {
          const id = ctx.params.id as string;
          this.services.presence[action](id, p.auth.user.id);
          this.back(ctx, p, action === 'accept' ? `/chat/${id}` : '/buddies');
        }),
      );
  }

  close(): void {
    for (const id of [...this.webLinks.keys()]) this.dropWebLink(id);
  }

  // ---- plumbing ---------------------------------------------------------------------

  private fmt(req: FastifyRequest): Format {
    return pageFormat(req.headers.accept);
  }

  /** A page that needs a logged-in user: 307 to the holder node, 303 to /login without one. */
  private page(fn: (ctx: RequestContext, p: PageCtx) => Promise<void> | void) {
    return async (ctx: RequestContext) => {
      const fmt = this.fmt(ctx.req);
      const r = await this.sessions.resolve(ctx.req);
      if (r.kind === 'redirect') return sendRedirect(ctx.res, 307, r.location);
      if (r.kind === 'none') return sendRedirect(ctx.res, 303, '/login');
      await this.touchWebLink(r.auth);
      try {
        await fn(ctx, { fmt, auth: r.auth });
      } catch (e) {
        if (!isAppError(e)) throw e;
        this.sendPage(ctx.res, fmt, e.status, 'Error', this.errorBody(fmt, e, r.auth), '', retryHeaders(e));
      }
    };
  }

  /** A form POST: the page rules, the body parsed, the CSRF token checked before anything changes. */
  private form(fn: (ctx: RequestContext, p: PageCtx, f: FormFields) => Promise<void> | void) {
    return this.page(async (ctx, p) => {
      const f = new FormFields(ctx.req.body);
      checkCsrf(p.auth.object, f.get('csrf'));
      await fn(ctx, p, f);
    });
  }

  private back(ctx: RequestContext, p: PageCtx, path: string): void {
    sendRedirect(ctx.res, 303, this.href(p, path));
  }

  /** A link to one of our pages; WML and HDML links carry the token. */
  private href(p: { fmt: Format; auth?: WebAuth }, path: string): string {
    if (!isWap(p.fmt) || !p.auth) return path;
    return `${path}${path.includes('?') ? '&' : '?'}s=${encodeURIComponent(p.auth.token)}`;
  }

  private sendPage(
    res: FastifyReply,
    fmt: Format,
    status: number,
    title: string,
    body: string,
    extra = '',
    more: Record<string, string> = {},
  ): FastifyReply {
    let text: string;
    const headers: Record<string, string> = {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...more,
    };
    if (fmt === 'wml') {
      text = body;
      headers['content-type'] = 'text/vnd.wap.wml; charset=utf-8';
    } else if (fmt === 'hdml') {
      text = body;
      headers['content-type'] = 'text/x-hdml; charset=utf-8';
    } else {
      text = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark"><title>${escapeHtml(title)}</title><link rel="stylesheet" href="/static/style.css">${extra}</head>\n${body}\n</html>\n`;
      headers['content-type'] = 'text/html; charset=utf-8';
      headers['content-security-policy'] = PAGE_CSP;
    }
    return res.code(status).headers(headers).send(text);
  }

  private errorBody(fmt: Format, e: AppError, auth?: WebAuth): string {
    if (isWap(fmt))
      return this.deck(fmt, {
        id: 'error',
        title: 'Error',
        paragraphs: [
          [[e.message], [{ link: 'Back', href: this.href({ fmt, ...(auth ? { auth } : {}) }, '/buddies') }]],
        ],
      });
    return `<body><header class="top"><h1>Sorry</h1></header><main><p class="error" data-code="${escapeHtml(e.code)}">${escapeHtml(e.message)}</p><p><a href="/buddies">Back to your buddy list</a></p></main></body>`;
  }

  /** A card as the phone's language: a WML or an HDML deck. */
  private deck(fmt: 'wml' | 'hdml', card: WapCard): string {
    return fmt === 'wml' ? renderWml(card) : renderHdml(card);
  }

  /** Opens (or keeps open) the web link of a session object; resolves once it is open. */
  private async touchWebLink(auth: WebAuth): Promise<void> {
    const { presence, clock, config } = this.services;
    const existing = this.webLinks.get(auth.object.id);
    if (existing) clock.clearTimeout(existing.timer);
    const open = () =>
      presence.openLink(auth.user.id, { kind: 'web', deliver: () => {}, replay: false }).catch(() => undefined);
    const link = existing ? existing.link.then((l) => (l?.isOpen ? l : open())) : open();
    const timer = clock.setTimeout(() => this.dropWebLink(auth.object.id), config.presence.webLinkIdleSeconds * 1000);
    this.webLinks.set(auth.object.id, { link, timer });
    await link;
  }

  private dropWebLink(objectId: string): void {
    const w = this.webLinks.get(objectId);
    if (!w) return;
    this.services.clock.clearTimeout(w.timer);
    this.webLinks.delete(objectId);
    void w.link.then((l) => l?.close()).catch(() => {});
  }

  /** The display names of users, read once for a page: `name(id)` answers from them. */
  private async nameBook(ids: Iterable<number>): Promise<(userId: number) => string> {
    const names = new Map<number, string>();
    for (const id of new Set(ids)) {
      const u = await this.services.accounts.userById(id);
      if (u) names.set(id, u.displayName);
    }
    return (userId) => names.get(userId) ?? `user ${userId}`;
  }

  // ---- log-in --------------------------------------------------------------------------

  /** The log-in form's key, shared by every node, so a form served by one node may be posted to another. */
  private get loginSecret(): Buffer {
    // Read from the store when the routes are mounted.
    if (!this.loginKey) throw new AppError('CORE_INTERNAL', 'the log-in form key is not loaded');
    return this.loginKey;
  }

  /** Cookie attributes (@fastify/cookie); Secure when this node is reached over TLS. */
  private cookieOptions(req: FastifyRequest): CookieSerializeOptions {
    const { http } = this.services.config;
    const forwarded = String(req.headers['x-forwarded-proto'] ?? '')
      .split(',')[0]
      ?.trim()
      .toLowerCase();
    const isTls = http.publicUrl?.startsWith('https:') === true || (http.trustForwardedProto && forwarded === 'https');
    return { path: '/', httpOnly: true, sameSite: 'lax', ...(isTls ? { secure: true } : {}) };
  }

  private setSessionCookie(ctx: RequestContext, token: string): void {
    ctx.res.setCookie(COOKIE, token, this.cookieOptions(ctx.req));
  }

  /** The browser's pre-session id (set now when it has none); '' for WML and HDML, whose log-ins set no cookie. */
  private preSession(ctx: RequestContext, fmt: Format): string {
    if (isWap(fmt)) return '';
    const have = ctx.req.cookies[PRE_COOKIE];
    if (have && /^[A-Za-z0-9_-]{22}$/.test(have)) return have;
    const id = randomBytes(16).toString('base64url');
    ctx.res.setCookie(PRE_COOKIE, id, { ...this.cookieOptions(ctx.req), maxAge: 3600 });
    return id;
  }

  private loginToken(pre: string): string {
    const ts = String(this.services.clock.now());
    return `${ts}.${createHmac('sha256', this.loginSecret).update(`${ts}|${pre}`).digest('base64url')}`;
  }

  private checkLoginToken(token: string | null, pre: string | undefined, fmt: Format): void {
    const [ts, mac] = (token ?? '').split('.');
    // A browser's form must come back with the cookie it was served with.
    const bound = isWap(fmt) ? '' : (pre ?? '');
    if (fmt === 'html' && bound === '')
      throw new AppError('WEB_CSRF_FAILED', 'the log-in form is stale; reload it and try again');
    const want = createHmac('sha256', this.loginSecret)
      .update(`${ts ?? ''}|${bound}`)
      .digest('base64url');
    const fresh = Number(ts) > this.services.clock.now() - 3600_000;
    const a = Buffer.from(want);
    const b = Buffer.from(mac ?? '');
    if (!fresh || a.length !== b.length || !timingSafeEqual(a, b))
      throw new AppError('WEB_CSRF_FAILED', 'the log-in form is stale; reload it and try again');
  }

  private async home(ctx: RequestContext): Promise<void> {
    const r = await this.sessions.resolve(ctx.req);
    const fmt = this.fmt(ctx.req);
    if (r.kind === 'redirect') sendRedirect(ctx.res, 307, r.location);
    else if (r.kind === 'ok') sendRedirect(ctx.res, 303, this.href({ fmt, auth: r.auth }, '/buddies'));
    else sendRedirect(ctx.res, 303, '/login');
  }

  private loginForm(ctx: RequestContext, status = 200, error?: string, username = '', more = {}): void {
    const fmt = this.fmt(ctx.req);
    const csrf = this.loginToken(this.preSession(ctx, fmt));
    if (isWap(fmt)) {
      const lines: WapPart[][] = [
        ['Username: ', { input: 'u', title: 'Username', value: username, maxlength: 32 }],
        ['Password: ', { input: 'pw', title: 'Password', isPassword: true, maxlength: 256 }],
        [
          {
            post: 'Log in',
            href: '/login',
            fields: { username: { var: 'u' }, password: { var: 'pw' }, csrf },
          },
        ],
      ];
      if (error) lines.unshift([{ bold: error }]);
      this.sendPage(
        ctx.res,
        fmt,
        status,
        'Log in',
        this.deck(fmt, { id: 'login', title: 'Log in', paragraphs: [lines] }),
        '',
        more,
      );
      return;
    }
    this.sendPage(
      ctx.res,
      fmt,
      status,
      'Log in',
      `<body><header class="top"><h1>Log in</h1></header><main>${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}<form method="post" action="/login"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><p><label>Username <input name="username" value="${escapeHtml(username)}" maxlength="32" autocomplete="username" required></label></p><p><label>Password <input type="password" name="password" maxlength="256" autocomplete="current-password" required></label></p><p><button type="submit">Log in</button></p></form></main></body>`,
      '',
      more,
    );
  }

  /**
   * The link in an alert email: a signed, expiring token that logs its user
   * straight into the session the message came from. Anything wrong with it
   * sends the reader to the log-in form, never further.
   */
  private async replyLink(ctx: RequestContext): Promise<void> {
    const fmt = this.fmt(ctx.req);
    this.replySecret ??= replyLinkSecret(this.services.config);
    const now = this.services.clock.now();
    const given = (ctx.req.query as Record<string, unknown>).t;
    const t = typeof given === 'string' ? given : null;
    const v = verifyReplyToken(this.replySecret, t, now);
    const user = v.ok ? await this.services.accounts.userById(v.value.userId) : null;
    if (v.ok && user && !(await this.replyLinkUses.claim(v.value.nonce, now, v.value.expiresAt))) {
      this.loginForm(ctx, 410, 'That reply link has already been used. Please log in to reply.');
      return;
    }
    if (!v.ok || !user) {
      const expired = !v.ok && v.error.code === 'NOTIFY_LINK_EXPIRED';
      this.loginForm(
        ctx,
        403,
        expired ? 'That reply link has expired. Please log in.' : 'That reply link is not valid. Please log in.',
      );
      return;
    }
    const { object, token } = await this.services.presence.objects.create(user.id, isWap(fmt) ? 'wap' : 'web');
    const auth: WebAuth = { token, object, user };
    if (fmt === 'html') this.setSessionCookie(ctx, token);
    await this.touchWebLink(auth);
    sendRedirect(ctx.res, 303, this.href({ fmt, auth }, `/chat/${encodeURIComponent(v.value.sessionId)}`));
  }

  private async loginPost(ctx: RequestContext): Promise<void> {
    const fmt = this.fmt(ctx.req);
    const f = new FormFields(ctx.req.body);
    const username = (f.get('username') ?? '').slice(0, 64);
    try {
      this.checkLoginToken(f.get('csrf'), ctx.req.cookies[PRE_COOKIE], fmt);
      const { token, object, user } = await login(this.services, this.limits, {
        username,
        password: f.get('password') ?? '',
        client: isWap(fmt) ? 'wap' : 'web',
        address: clientAddress(ctx.req),
      });
      const auth: WebAuth = { token, object, user };
      if (fmt === 'html') this.setSessionCookie(ctx, token);
      await this.touchWebLink(auth);
      sendRedirect(ctx.res, 303, this.href({ fmt, auth }, '/buddies'));
    } catch (e) {
      if (!isAppError(e)) throw e;
      const msg =
        e.code === 'ACCOUNTS_LOCKED'
          ? 'Too many failed tries: the account is locked for a while.'
          : e.code === 'WEB_CSRF_FAILED'
            ? 'The form was stale. Please try again.'
            : e.code === 'WEB_RATE_LIMITED'
              ? `Too many log-in tries. Please wait ${String(e.details?.retryAfterSeconds ?? 60)} seconds and try again.`
              : 'Wrong username or password.';
      this.loginForm(ctx, e.status, msg, username, retryHeaders(e));
    }
  }

  // ---- the buddy list -------------------------------------------------------------------

  private async buddies(ctx: RequestContext, p: PageCtx): Promise<void> {
    const { presence, config } = this.services;
    const me = p.auth.user;
    const mine = await presence.presenceOf(me.id);
    const contacts = await presence.contacts(me.id);
    const requests = await presence.contactRequests(me.id);
    const sessions = await presence.sessionsOf(me.id);
    const unread = new Map<string, number>();
    for (const m of await presence.unread(me.id)) unread.set(m.sessionId, (unread.get(m.sessionId) ?? 0) + 1);
    const stateOf = (s: ImSession) => s.members.find((m) => m.userId === me.id)?.state;
    const name = await this.nameBook(sessions.flatMap((s) => [s.ownerId, ...s.members.map((m) => m.userId)]));
    const others = (s: ImSession) =>
      s.members
        .filter((m) => m.userId !== me.id && (m.state === 'joined' || m.state === 'invited'))
        .map((m) => name(m.userId))
        .join(', ') || 'nobody';
    const csrf = p.auth.object.csrf;
    const refresh = config.presence.pageRefreshSeconds;

    if (isWap(p.fmt)) {
      const post = (path: string, fields: Record<string, string | { var: string }>, label: string): WapPart => ({
        post: label,
        href: this.href(p, path),
        fields: { ...fields, csrf },
      });
      const lines: WapPart[][] = [[`${me.displayName}: ${STATE_LABEL[mine.state]}`]];
      for (const s of sessions) {
        const n = unread.get(s.id) ?? 0;
        lines.push(
          stateOf(s) === 'invited'
            ? [
                `Invited by ${name(s.ownerId)}: `,
                post(`/chat/${s.id}/accept`, {}, 'Accept'),
                ' ',
                post(`/chat/${s.id}/decline`, {}, 'Decline'),
              ]
            : [{ link: `Chat with ${others(s)}${n > 0 ? ` (${n} new)` : ''}`, href: this.href(p, `/chat/${s.id}`) }],
        );
      }
      for (const c of contacts) {
        const isApproved = c.subscription === 'approved';
        lines.push([
          `${c.displayName}: ${isApproved ? STATE_LABEL[c.presence.state] : 'asked'}${c.presence.statusText ? ` (${c.presence.statusText})` : ''}`,
          ...(isApproved ? [' ', post('/chat/new', { contactId: String(c.userId) }, 'Chat')] : []),
        ]);
      }
      for (const r of requests)
        lines.push([
          `${r.displayName} asks to add you: `,
          post('/contacts/approve', { userId: String(r.fromUserId) }, 'Approve'),
        ]);
      const forms: WapPart[][] = [
        [
          'Add: ',
          { input: 'nu', title: 'Username', maxlength: 32 },
          ' ',
          post('/contacts/add', { username: { var: 'nu' } }, 'Add'),
        ],
        [
          {
            select: 'st',
            title: 'Presence',
            options: [
              ['online', 'online'],
              ['away', 'away'],
              ['busy', 'busy'],
              ['offline', 'invisible'],
            ],
          },
          ' ',
          post('/presence', { state: { var: 'st' } }, 'Set'),
        ],
        [post('/logout', {}, 'Log out')],
      ];
      const card: WapCard = {
        id: 'buddies',
        title: 'Buddies',
        reload: { seconds: refresh, href: this.href(p, '/buddies') },
        paragraphs: [lines, forms],
      };
      this.sendPage(ctx.res, p.fmt, 200, 'Buddies', this.deck(p.fmt, card));
      return;
    }

    const e = escapeHtml;
    const isAdmin = await this.services.roles.isAdmin(me.id);
    const hidden = `<input type="hidden" name="csrf" value="${e(csrf)}">`;
    const button = (path: string, label: string, fields: Record<string, string> = {}, cls = '') =>
      `<form method="post" action="${e(path)}" class="inline ${cls}">${hidden}${Object.entries(fields)
        .map(([k, v]) => `<input type="hidden" name="${e(k)}" value="${e(v)}">`)
        .join('')}<button type="submit">${e(label)}</button></form>`;
    const mark = '<span class="mark" aria-hidden="true"></span>';
    const contactItems = contacts
      .map((c) => {
        const isApproved = c.subscription === 'approved';
        const state = isApproved ? c.presence.state : 'offline';
        const status =
          isApproved && c.presence.statusText ? `: <span class="status-text">${e(c.presence.statusText)}</span>` : '';
        return `<li class="contact" data-user="${c.userId}" data-state="${e(state)}">${mark}<span class="name">${e(c.displayName)}</span> (${e(c.username)}) <span class="presence" data-presence-user="${c.userId}">${isApproved ? e(STATE_LABEL[c.presence.state]) : 'waiting for approval'}</span>${status} ${isApproved ? button('/chat/new', 'Chat', { contactId: String(c.userId) }) : ''}</li>`;
      })
      .join('\n');
    const requestItems = requests
      .map(
        (r) =>
          `<li class="request">${e(r.displayName)} (${e(r.username)}) asks to add you ${button('/contacts/approve', 'Approve', { userId: String(r.fromUserId) })} ${button('/contacts/decline', 'Decline', { userId: String(r.fromUserId) }, 'quiet')}</li>`,
      )
      .join('\n');
    const sessionItems = sessions
      .map((s) => {
        const n = unread.get(s.id) ?? 0;
        return stateOf(s) === 'invited'
          ? `<li class="invitation" data-session="${e(s.id)}">${e(name(s.ownerId))} invites you to chat ${button(`/chat/${s.id}/accept`, 'Accept')} ${button(`/chat/${s.id}/decline`, 'Decline', {}, 'quiet')}</li>`
          : `<li class="session" data-session="${e(s.id)}"><a href="/chat/${e(s.id)}">Chat with ${e(others(s))}</a>${n > 0 ? ` <strong class="unread">${n} new</strong>` : ''}</li>`;
      })
      .join('\n');
    const options = ['online', 'away', 'busy', 'offline']
      .map(
        (s) =>
          `<option value="${s}"${mine.state === s ? ' selected' : ''}>${s === 'offline' ? 'invisible' : s}</option>`,
      )
      .join('');
    const languageOptions = [['default', 'the community default'], ...LANGUAGE_NAMES]
      .map(
        ([tag, label]) =>
          `<option value="${tag}"${(me.language ?? 'default') === tag ? ' selected' : ''}>${e(label as string)}</option>`,
      )
      .join('');
    const body = `<body data-page="buddies"><header class="top"><h1>Buddies of ${e(me.displayName)}</h1>
<nav aria-label="Account">${isAdmin ? '<a href="/admin">Operator’s view</a> ' : ''}${button('/logout', 'Log out', {}, 'quiet')}</nav></header>
<main>
<section aria-labelledby="me-heading"><h2 id="me-heading">Your presence</h2>
<p data-state="${e(mine.state)}">${mark}You are <span id="my-presence">${e(STATE_LABEL[mine.state])}</span>${mine.statusText ? `: ${e(mine.statusText)}` : ''}.</p>
<form method="post" action="/presence" class="row">${hidden}<label>State <select name="state">${options}</select></label> <label class="grow">Status <input name="statusText" maxlength="140" placeholder="at lunch" value="${e(mine.statusText ?? '')}"></label> <button type="submit">Set</button></form>
<form method="post" action="/language" class="row">${hidden}<label>Language on the phone and in alerts <select name="language">${languageOptions}</select></label> <button type="submit">Save</button></form>
</section>
<section aria-labelledby="chats-heading"><h2 id="chats-heading">Chats</h2><ul id="sessions" class="plain">${sessionItems || '<li>No chats yet.</li>'}</ul>
<div id="live-notices" aria-live="polite"></div></section>
<section aria-labelledby="contacts-heading"><h2 id="contacts-heading">Contacts</h2><ul id="contacts" class="plain">${contactItems || '<li>No contacts yet.</li>'}</ul>
${requestItems ? `<h2>Requests</h2><ul id="requests" class="plain">${requestItems}</ul>` : ''}
<form method="post" action="/contacts/add" class="row">${hidden}<label class="grow">Add a contact <input name="username" maxlength="32" placeholder="username" required></label> <button type="submit">Add</button></form></section>
</main>
<script src="/static/live.js" defer></script></body>`;
    this.sendPage(
      ctx.res,
      'html',
      200,
      'Buddies',
      body,
      `<noscript><meta http-equiv="refresh" content="${refresh}"></noscript>`,
    );
  }

  // ---- a chat ---------------------------------------------------------------------------

  /** A chat; with `draft`, the one whose message was just refused (its error shown, its text kept). */
  private async chat(ctx: RequestContext, p: PageCtx, draft?: { text: string; error: AppError }): Promise<void> {
    const { presence, config } = this.services;
    const status = draft ? draft.error.status : 200;
    const more = draft ? retryHeaders(draft.error) : {};
    const refusal = draft ? this.refusalText(draft.error) : '';
    const me = p.auth.user;
    const id = ctx.params.id as string;
    const session = await presence.session(id, me.id);
    const myState = session.members.find((m) => m.userId === me.id)?.state;
    const messages = await presence.history(me.id, id, { limit: 30 });
    const toRead = messages.filter((m) => m.fromUserId !== me.id).map((m) => m.id);
    if (toRead.length > 0) await presence.markRead(me.id, toRead);
    const csrf = p.auth.object.csrf;
    const refresh = config.presence.pageRefreshSeconds;
    const members = session.members.filter((m) => m.state === 'joined' || m.state === 'invited');
    const name = await this.nameBook([...session.members.map((m) => m.userId), ...messages.map((m) => m.fromUserId)]);
    const who = (m: StoredMessage) => (m.fromUserId === me.id ? 'You' : name(m.fromUserId));
    const body = (m: StoredMessage) => m.text ?? '(voice message)';

    if (isWap(p.fmt)) {
      const go = (path: string, label: string, fields: Record<string, string | { var: string }> = {}): WapPart => ({
        post: label,
        href: this.href(p, path),
        fields: { ...fields, csrf },
      });
      const lines: WapPart[][] = messages.map((m) => [{ bold: `${who(m)}:` }, ` ${body(m)}`]);
      const actions: WapPart[][] =
        myState === 'invited'
          ? [[go(`/chat/${id}/accept`, 'Accept'), ' ', go(`/chat/${id}/decline`, 'Decline')]]
          : myState === 'joined'
            ? [
                ...(draft ? [[{ bold: refusal }]] : []),
                [
                  {
                    input: 't',
                    title: 'Message',
                    maxlength: config.presence.maxMessageBytes,
                    ...(draft ? { value: draft.text } : {}),
                  },
                  ' ',
                  go(`/chat/${id}/send`, 'Send', { text: { var: 't' } }),
                ],
                [go(`/chat/${id}/leave`, 'Leave')],
              ]
            : [['You left this chat.']];
      const withWhom =
        members
          .filter((m) => m.userId !== me.id)
          .map((m) => name(m.userId))
          .join(', ') || 'nobody';
      // A refused message stays in the field: no reset of $(t), no timer reloading it away.
      const card: WapCard = {
        id: 'chat',
        title: 'Chat',
        ...(draft ? {} : { reload: { seconds: refresh, href: this.href(p, `/chat/${id}`) }, clearOnEnter: ['t'] }),
        paragraphs: [
          [[`With ${withWhom}`]],
          lines.length > 0 ? lines : [['No messages yet.']],
          [...actions, [{ link: 'Buddies', href: this.href(p, '/buddies') }]],
        ],
      };
      this.sendPage(ctx.res, p.fmt, status, 'Chat', this.deck(p.fmt, card), '', more);
      return;
    }

    const e = escapeHtml;
    const hidden = `<input type="hidden" name="csrf" value="${e(csrf)}">`;
    const names: Record<string, string> = {};
    for (const m of session.members) names[m.userId] = m.userId === me.id ? 'You' : name(m.userId);
    const now = this.services.clock.now();
    const items: string[] = [];
    for (const m of messages) {
      const at = readerTime(m.createdAt, me.timeZone, now);
      let voice = '';
      if (m.audioUrl) {
        const ms = m.audioId ? (await this.services.audio.describe(m.audioId))?.durationMs : undefined;
        const length = ms === undefined ? '' : clockDuration(ms);
        voice = `<span class="voice"><audio controls preload="metadata" src="${e(m.audioUrl)}" aria-label="Voice message from ${e(who(m))}${length ? `, ${length}` : ''}"></audio>${length ? ` <span class="duration">${length}</span>` : ''}</span>`;
      }
      items.push(
        `<li class="message${m.fromUserId === me.id ? ' mine' : ''}" data-id="${e(m.id)}"><time datetime="${at.datetime}">${e(at.text)}</time> <b class="from">${e(who(m))}:</b> <span class="text">${e(body(m))}</span>${voice}</li>`,
      );
    }
    const actions =
      myState === 'invited'
        ? `<div class="row"><form method="post" action="/chat/${e(id)}/accept" class="inline">${hidden}<button type="submit">Accept</button></form> <form method="post" action="/chat/${e(id)}/decline" class="inline">${hidden}<button type="submit" class="quiet">Decline</button></form></div>`
        : myState === 'joined'
          ? `<p id="send-error" class="error" role="alert"${draft ? ` data-code="${e(draft.error.code)}"` : ' hidden'}>${e(refusal)}</p><form method="post" action="/chat/${e(id)}/send" id="send">${hidden}<label for="text">Message</label><div class="row"><div class="grow"><input name="text" id="text" data-max-bytes="${config.presence.maxMessageBytes}" value="${e(draft?.text ?? '')}" autocomplete="off" aria-describedby="text-hint" required autofocus></div> <button type="submit">Send</button></div><small id="text-hint">At most ${config.presence.maxMessageBytes} bytes: fewer letters with accents or emoji.</small></form>`
          : '<p>You left this chat.</p>';
    const leave =
      myState === 'joined'
        ? `<form method="post" action="/chat/${e(id)}/leave" class="inline">${hidden}<button type="submit" class="quiet">Leave</button></form>`
        : '';
    const page = `<body data-page="chat" data-session="${e(id)}" data-me="${me.id}" data-tz="${e(me.timeZone)}" data-names="${e(JSON.stringify(names))}"><header class="top"><h1>Chat with ${e(
      members
        .filter((m) => m.userId !== me.id)
        .map((m) => `${name(m.userId)}${m.state === 'invited' ? ' (invited)' : ''}`)
        .join(', ') || 'nobody',
    )}</h1>
<nav aria-label="Chat"><a href="/buddies">Buddies</a> ${leave}</nav></header>
<main>
<ol id="messages" class="plain" aria-label="Messages">${items.join('\n')}</ol>
${actions}
</main>
<script src="/static/live.js" defer></script></body>`;
    this.sendPage(
      ctx.res,
      'html',
      status,
      'Chat',
      page,
      // A page with a kept draft does not reload itself (the reload would lose the text).
      draft ? '' : `<noscript><meta http-equiv="refresh" content="${refresh}"></noscript>`,
      more,
    );
  }

  private refusalText(e: AppError): string {
    if (e.code === 'PRESENCE_MESSAGE_TOO_LARGE') return `Not sent: ${e.message}. Your text is below; shorten it.`;
    if (e.code === 'WEB_RATE_LIMITED') return `Not sent: ${e.message}. Your text is below.`;
    return `Not sent: ${e.message}.`;
  }
}
