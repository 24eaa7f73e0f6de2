/**
 * The operator's view (/admin): calls in progress, alerts in progress with
 * each one's ladder drawn as a timeline of its steps, recent failures, and
 * the figures of /metrics at a glance.
 *
 * Rules:
 * - Only a logged-in user with the admin role sees it; anyone else logged in
 *   gets 403 (WEB_ADMIN_ONLY), and nobody logged in goes to /login.
 * - Server-rendered HTML that works without JavaScript (it reloads itself in
 *   a <noscript> refresh); with JavaScript on, a small script fetches the page
 *   again and swaps its <main> in place, unless the operator is using a
 *   control inside it.
 * - Every action (cancel or retry an alert) is a form POST that carries the
 *   session object's CSRF token; without it nothing changes. A refused action
 *   is a page that says why, with the registry's code and status.
 * - Messages per minute come from the stored-message counter: the view keeps
 *   the samples it took in the last minutes and divides the difference.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../app.js';
import { AppError } from '../core/errors.js';
import type { AlertView } from '../notify/notifier.js';
import type { Alert, Step } from '../notify/types.js';
import { checkCsrf, sendRedirect, type WebAuth, type WebSessions } from './auth.js';
import { escapeHtml as e, readerTime } from './markup.js';
import { retryHeaders, toAppError } from './server.js';
import { PAGE_CSP } from './thin-client.js';

/** One figure of the metrics registry as prom-client's JSON gives it. */
export interface MetricJson {
  name: string;
  values: { value: number; labels: Partial<Record<string, string | number>> }[];
}

export interface AdminDeps {
  services: Pick<Services, 'accounts' | 'roles' | 'presence' | 'notifier' | 'ivr' | 'clock' | 'config'>;
  /** Who a request's token names. */
  sessions: WebSessions;
  /** The platform's figures (prom-client's getMetricsAsJSON). */
  metrics: () => Promise<MetricJson[]>;
}

interface Figures {
  callsActive: number;
  callsStarted: number;
  messagesStored: number;
  messagesPerMinute: number | null;
  alertsOpened: number;
  stepOutcomes: Record<string, number>;
}

const STEP_WORDS: Record<Step['state'], string> = {
  scheduled: 'scheduled',
  'in-progress': 'in progress',
  delivered: 'delivered',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'skipped',
};

const ADMIN_JS = `'use strict';
(function () {
  var body = document.body;
  var every = Math.max(1, Number(body.getAttribute('data-refresh')) || 5) * 1000;
  var rounds = 0;
  document.documentElement.setAttribute('data-live', 'on');
  function busy(main) {
    var a = document.activeElement;
    return a && a !== body && main.contains(a);
  }
  function tick() {
    fetch(location.pathname, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var next = new DOMParser().parseFromString(html, 'text/html').getElementById('admin');
        var main = document.getElementById('admin');
        if (!next || !main || busy(main)) return;
        main.replaceWith(document.importNode(next, true));
        rounds++;
        document.documentElement.setAttribute('data-refreshed', String(rounds));
      })
      .catch(function () {})
      .then(function () { setTimeout(tick, every); });
  }
  setTimeout(tick, every);
})();
`;

export class AdminView {
  private samples: { at: number; stored: number }[] = [];

  constructor(private readonly deps: AdminDeps) {}

  plugin() {
    return async (app: FastifyInstance): Promise<void> => {
      app.setErrorHandler((err, req, res) => {
        const error = toAppError(err, req) ?? new AppError('CORE_INTERNAL', 'Something went wrong on our side.');
        if (error.code === 'CORE_INTERNAL') req.log.error({ err }, 'admin page failed');
        return this.errorPage(res, error);
      });
      app.get('/static/admin.js', { schema: { summary: 'The operator view script', tags: ['admin'] } }, (_req, res) =>
        res
          .headers({
            'content-type': 'text/javascript; charset=utf-8',
            'cache-control': 'no-cache',
            'x-content-type-options': 'nosniff',
          })
          .send(ADMIN_JS),
      );
      app.get('/admin', { schema: { summary: "The operator's view", tags: ['admin'] } }, async (req, res) => {
        const auth = await this.admin(req, res);
        if (auth) await this.page(res, auth);
        return res;
      });
      for (const action of ['cancel', 'retry'] as const)
        app.post(
          `/admin/alerts/:id/${action}`,
          { schema: { summary: `Operator: ${action} an alert`, tags: ['admin'] } },
          async (req, res) => {
            const auth = await this.admin(req, res);
            if (!auth) return res;
            const body = (req.body ?? {}) as Record<string, unknown>;
            checkCsrf(auth.object, body.csrf);
            const id = (req.params as { id: string }).id;
            const { notifier } = this.deps.services;
            if (action === 'cancel') await notifier.cancel(id);
            else await notifier.retry(id);
            req.log.info({ alert: id, action, by: auth.user.username }, 'operator action');
            sendRedirect(res, 303, '/admin');
            return res;
          },
        );
    };
  }

  /** The admin behind a request; otherwise the answer is sent (303 to /login, 307 to the holder, 403) and null. */
  private async admin(req: FastifyRequest, res: FastifyReply): Promise<WebAuth | null> {
    const { roles } = this.deps.services;
    const r = await this.deps.sessions.resolve(req);
    if (r.kind === 'redirect') {
      sendRedirect(res, 307, r.location);
      return null;
    }
    if (r.kind === 'none') {
      sendRedirect(res, 303, '/login');
      return null;
    }
    if (!(await roles.isAdmin(r.auth.user.id)))
      throw new AppError('WEB_ADMIN_ONLY', 'This page is for operators: your account has no admin role.');
    return r.auth;
  }

  private send(res: FastifyReply, status: number, title: string, body: string, extra = '', more = {}): FastifyReply {
    const html = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark"><title>${e(title)}</title><link rel="stylesheet" href="/static/style.css">${extra}</head>\n${body}\n</html>\n`;
    return res
      .code(status)
      .headers({
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'content-security-policy': PAGE_CSP,
        ...more,
      })
      .send(html);
  }

  private errorPage(res: FastifyReply, error: AppError): FastifyReply {
    return this.send(
      res,
      error.status,
      'Error',
      `<body><header class="top"><h1>Sorry</h1></header><main><p class="error" data-code="${e(error.code)}">${e(error.message)}</p><p><a href="/admin">Back to the operator’s view</a> · <a href="/buddies">Your buddy list</a></p></main></body>`,
      '',
      retryHeaders(error),
    );
  }

  /** The figures of /metrics an operator looks at first. */
  async figures(): Promise<Figures> {
    const all = await this.deps.metrics();
    const sum = (name: string, label?: string) => {
      const out: Record<string, number> = {};
      let total = 0;
      for (const v of all.find((m) => m.name === name)?.values ?? []) {
        total += v.value;
        if (label) out[String(v.labels[label])] = (out[String(v.labels[label])] ?? 0) + v.value;
      }
      return { total, by: out };
    };
    const now = this.deps.services.clock.now();
    const stored = sum('phoneim_messages_stored_total').total;
    this.samples = this.samples.filter((s) => s.at > now - 5 * 60_000);
    this.samples.push({ at: now, stored });
    // The sample nearest a minute ago (at least 10 s old), for a rate over about a minute.
    const old = this.samples.filter((s) => s.at <= now - 10_000);
    const base = old.reduce<(typeof old)[number] | undefined>(
      (best, s) => (!best || Math.abs(s.at - (now - 60_000)) < Math.abs(best.at - (now - 60_000)) ? s : best),
      undefined,
    );
    return {
      callsActive: sum('phoneim_calls_active').total,
      callsStarted: sum('phoneim_calls_started_total').total,
      messagesStored: stored,
      messagesPerMinute: base ? Math.round(((stored - base.stored) / (now - base.at)) * 60_000 * 10) / 10 : null,
      alertsOpened: sum('phoneim_alerts_opened_total').total,
      stepOutcomes: sum('phoneim_alert_steps_total', 'outcome').by,
    };
  }

  private async page(res: FastifyReply, auth: WebAuth): Promise<void> {
    const { notifier, ivr, clock, config } = this.deps.services;
    const now = clock.now();
    const tz = auth.user.timeZone;
    const time = (at: number | null) => {
      if (at === null) return '';
      const t = readerTime(at, tz, now);
      return `<time datetime="${t.datetime}">${e(t.text)}</time>`;
    };
    const hidden = `<input type="hidden" name="csrf" value="${e(auth.object.csrf)}">`;
    const action = (a: Alert, what: 'cancel' | 'retry') =>
      `<form method="post" action="/admin/alerts/${e(a.id)}/${what}" class="inline">${hidden}<button type="submit"${what === 'cancel' ? ' class="quiet"' : ''} aria-label="${what === 'cancel' ? 'Cancel' : 'Retry'} alert ${e(a.id)}">${what === 'cancel' ? 'Cancel' : 'Retry'}</button></form>`;

    const fig = await this.figures();
    const outcomes = Object.entries(fig.stepOutcomes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `<div><dt>Steps ${e(k)}</dt><dd data-figure="steps-${e(k)}">${v}</dd></div>`)
      .join('');
    const figures = `<dl class="figures">
<div><dt>Calls in progress</dt><dd data-figure="calls-active">${fig.callsActive}</dd></div>
<div><dt>Calls since start</dt><dd data-figure="calls-started">${fig.callsStarted}</dd></div>
<div><dt>Messages per minute</dt><dd data-figure="messages-per-minute">${fig.messagesPerMinute ?? '–'}</dd></div>
<div><dt>Messages stored</dt><dd data-figure="messages-stored">${fig.messagesStored}</dd></div>
<div><dt>Alerts opened</dt><dd data-figure="alerts-opened">${fig.alertsOpened}</dd></div>
${outcomes}</dl>`;

    const calls = ivr.callsInProgress();
    const callRows = calls
      .map(
        (c) =>
          `<tr data-call="${e(c.id)}"><td>${e(c.caller || 'unknown')}</td><td>${e(c.user ?? '–')}</td><td>${c.direction === 'inbound' ? 'in' : 'out'}</td><td class="call-state">${e(c.state)}</td><td>${time(c.since)}</td></tr>`,
      )
      .join('');
    const callTable = calls.length
      ? `<div class="scroll"><table id="calls"><thead><tr><th scope="col">Caller</th><th scope="col">User</th><th scope="col">Way</th><th scope="col">State</th><th scope="col">Since</th></tr></thead><tbody>${callRows}</tbody></table></div>`
      : '<p id="calls" class="muted">No calls right now.</p>';

    const recent = await notifier.list({ limit: 30 });
    const views: AlertView[] = [];
    for (const a of recent) views.push(await notifier.show(a.id));
    const isOpen = (a: Alert) => a.state === 'collecting' || a.state === 'running';
    const ladder = (v: AlertView) =>
      `<ol class="ladder" aria-label="Ladder of alert ${e(v.id)}">${v.steps
        .map((s) => {
          const at = s.endedAt ?? s.startedAt ?? s.dueAt;
          const detail = s.outcome ? ` <span class="muted">(${e(s.outcome)})</span>` : '';
          return `<li data-step="${s.position}" data-channel="${s.channel}" data-state="${s.state}"><strong>${s.position}. ${s.channel}</strong> ${e(s.address)}: <span class="step-state">${STEP_WORDS[s.state]}</span>${detail} ${time(at)}</li>`;
        })
        .join('')}</ol>`;
    const alertItem = (v: AlertView) =>
      `<li class="alert" data-alert="${e(v.id)}" data-state="${v.state}">To <strong>${e(v.recipient)}</strong>${v.isTest ? ' (test)' : ''}, ${v.messages.length} message(s), opened ${time(v.createdAt)}: <span class="alert-state">${e(v.state)}</span>${v.reason ? ` <span class="muted">(${e(v.reason)})</span>` : ''} ${isOpen(v) ? action(v, 'cancel') : ''}${ladder(v)}</li>`;
    const open = views.filter(isOpen);
    const openList = open.length
      ? `<ul id="alerts" class="plain">${open.map(alertItem).join('\n')}</ul>`
      : '<p id="alerts" class="muted">No alerts in progress.</p>';
    const failures = views.filter(
      (v) => !isOpen(v) && (v.state === 'failed' || v.steps.some((s) => s.state === 'failed')),
    );
    const failedList = failures.length
      ? `<ul id="failures" class="plain">${failures
          .slice(0, 10)
          .map(
            (v) =>
              `<li class="alert" data-alert="${e(v.id)}" data-state="${v.state}">To <strong>${e(v.recipient)}</strong>, ended ${time(v.endedAt)}: <span class="alert-state">${e(v.state)}</span>${v.reason ? ` <span class="muted">(${e(v.reason)})</span>` : ''} ${action(v, 'retry')}${ladder(v)}</li>`,
          )
          .join('\n')}</ul>`
      : '<p id="failures" class="muted">No recent failures.</p>';

    const refresh = config.presence.pageRefreshSeconds;
    const body = `<body class="wide" data-page="admin" data-refresh="${refresh}"><header class="top"><h1>Operator’s view</h1>
<nav aria-label="Operator"><a href="/admin">Reload</a> <a href="/buddies">Buddies</a></nav></header>
<main id="admin">
<section aria-labelledby="figures-heading"><h2 id="figures-heading">At a glance</h2>${figures}</section>
<section aria-labelledby="calls-heading"><h2 id="calls-heading">Calls in progress</h2>${callTable}</section>
<section aria-labelledby="alerts-heading"><h2 id="alerts-heading">Alerts in progress</h2>${openList}</section>
<section aria-labelledby="failures-heading"><h2 id="failures-heading">Recent failures</h2>${failedList}</section>
<p class="muted">As of ${time(now)}.</p>
</main>
<script src="/static/admin.js" defer></script></body>`;
    this.send(
      res,
      200,
      'Operator’s view',
      body,
      `<noscript><meta http-equiv="refresh" content="${refresh}"></noscript>`,
    );
  }
}
