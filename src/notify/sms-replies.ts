/**
 * Answering an alert by text message. Rules:
 * - A page sent over SMPP carries a short random reply code ("Reply 4821 +
 *   your text to answer Alice"), bound to that page: the number it went to,
 *   the alert, the recipient and the session. A retried page of the same
 *   alert to the same number carries the same code.
 * - A reply (deliver_sm) that starts with a live code, from the number the
 *   code was sent to, becomes a message from that user in that session, and
 *   stops the alert's ladder. The code is then used: one reply per code.
 * - The code, not the number, admits a reply (sender numbers can be forged):
 *   no code, a wrong one, one sent to another number, a used or expired one,
 *   or one whose alert was cancelled gets one polite SMS back and changes
 *   nothing. The polite answer is the same for every refusal, so it tells a
 *   guesser nothing.
 * - Replies are rate-limited per sender number (maxPerSenderPerHour; more are
 *   dropped unanswered) and so are polite answers (politePerSenderPerHour),
 *   so neither guessing nor the answers can be used to flood.
 * - Codes and reply texts never appear in the log.
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { bodyText } from './compose.js';
import { notices } from './notices.js';
import type { DeliveryResult } from './ports.js';
import type { SmsReplyStore } from './ports.js';

const HOUR_MS = 3600_000;
const MAX_TRACKED_SENDERS = 10_000;
const MAX_REPLY_CHARS = 1000;

export interface SmsReplyDeps {
  store: SmsReplyStore;
  clock: Clock;
  log: Logger;
  config: Config['notify']['smsReplies'];
  /** The language of users whose language is not known here (language.default). */
  defaultLanguage: string;
  /** Posts the reply into the session as a message from the user. */
  post(userId: number, sessionId: string, text: string): Promise<{ id: string }>;
  /** The recipient answered: the alert's ladder stops. */
  answered(alertId: string): void | Promise<void>;
  /** The language of a user (for the polite answer); absent: the default. */
  languageOf?(userId: number): string | undefined | Promise<string | undefined>;
  /** Sends one SMS (the polite answer). */
  send(to: string, text: string): Promise<DeliveryResult>;
  /** Told when a code is issued (the receiver binds while codes are live). */
  onIssued?(): void;
}

export interface PageForCode {
  alertId: string;
  userId: number;
  sessionId: string;
  /** E.164 with '+'. */
  phone: string;
  senderName: string;
}

export type SmsReplyOutcome =
  | { status: 'posted'; messageId: string; alertId: string }
  | { status: 'refused'; reason: string; answered: boolean }
  | { status: 'limited' }
  | { status: 'ignored'; reason: string };

const REPLY_RE = /^\s*(\d{4,8})(?![\d])[\s:;,.+-]*([\s\S]*)$/;

/** '+15550101', '15550101', '0015550101' -> '+15550101'; null when it is no phone number. */
export function senderNumber(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const digits = raw.replace(/^\+|^00/, '').replace(/[\s().-]/g, '');
  return /^[1-9]\d{5,14}$/.test(digits) ? `+${digits}` : null;
}

export class SmsReplies {
  private readonly replies = new Map<string, number[]>();
  private readonly polite = new Map<string, number[]>();

  constructor(private readonly deps: SmsReplyDeps) {}

  get isEnabled(): boolean {
    return this.deps.config.enabled;
  }

  /** The reply code for a page (the live one of this alert and number, else a new one). */
  async codeFor(page: PageForCode): Promise<string> {
    const { store, clock, config } = this.deps;
    const now = clock.now();
    const live = await store.liveFor(page.alertId, page.phone, now);
    if (live) return live.code;
    await store.purge(now - 7 * 24 * HOUR_MS);
    const low = 10 ** (config.codeDigits - 1);
    let code = String(randomInt(low, low * 10));
    // A clash with another live code would make one of them answer for both: draw again.
    for (let i = 0; i < 20 && (await store.isLive(code, now)); i++) code = String(randomInt(low, low * 10));
    await store.insert({
      code,
      phone: page.phone,
      alertId: page.alertId,
      userId: page.userId,
      sessionId: page.sessionId,
      senderName: page.senderName,
      createdAt: now,
      expiresAt: now + config.ttlSeconds * 1000,
    });
    this.deps.log.info({ alert: page.alertId, user: page.userId }, 'SMS reply code issued');
    this.deps.onIssued?.();
    return code;
  }

  /** Whether any code is live (the receiver needs a bind). */
  async hasLiveCodes(): Promise<boolean> {
    return this.deps.store.anyLive(this.deps.clock.now());
  }

  /** A text message from the SMS centre. Never throws. */
  async receive(sms: { from: unknown; text: unknown }): Promise<SmsReplyOutcome> {
    const { store, clock, log } = this.deps;
    const from = senderNumber(sms.from);
    if (!from) {
      log.info('SMS reply ignored: the sender is not a phone number');
      return { status: 'ignored', reason: 'no sender number' };
    }
    const now = clock.now();
    if (!this.take(this.replies, from, this.deps.config.maxPerSenderPerHour, now)) {
      log.warn('SMS replies from one number over the hourly limit: dropped');
      return { status: 'limited' };
    }
    const text = typeof sms.text === 'string' ? sms.text : '';
    const m = REPLY_RE.exec(text);
    const body = m ? bodyText(m[2] as string).trim() : '';
    if (!m || !body) return this.refuse(from, 'no code or no text', undefined);
    try {
      const rows = await store.byCode(m[1] as string);
      const mine = rows.find((r) => r.phone === from);
      if (!mine) return await this.refuse(from, 'no such code for this number', undefined);
      if (mine.usedAt !== null) return await this.refuse(from, 'code already used', mine.userId);
      if (mine.expiresAt <= now) return await this.refuse(from, 'code expired', mine.userId);
      if (mine.alertCancelled) return await this.refuse(from, 'alert cancelled', mine.userId);
      if (!(await store.markUsed(mine.id, now))) return await this.refuse(from, 'code already used', mine.userId);
      let posted: { id: string };
      try {
        posted = await this.deps.post(mine.userId, mine.sessionId, [...body].slice(0, MAX_REPLY_CHARS).join(''));
      } catch (e) {
        log.warn({ alert: mine.alertId, code: (e as { code?: string }).code }, 'SMS reply could not be posted');
        return await this.refuse(from, 'the session did not take the message', mine.userId);
      }
      await this.deps.answered(mine.alertId);
      log.info({ alert: mine.alertId, user: mine.userId, message: posted.id }, 'alert answered by SMS');
      return { status: 'posted', messageId: posted.id, alertId: mine.alertId };
    } catch (e) {
      log.error({ err: e }, 'SMS reply failed');
      return { status: 'ignored', reason: 'internal error' };
    }
  }

  private async refuse(to: string, reason: string, userId: number | undefined): Promise<SmsReplyOutcome> {
    const { log, config, clock } = this.deps;
    if (!this.take(this.polite, to, config.politePerSenderPerHour, clock.now())) {
      log.info({ reason }, 'SMS reply refused; no answer (polite answers to this number over the hourly limit)');
      return { status: 'refused', reason, answered: false };
    }
    let language = this.deps.defaultLanguage;
    try {
      if (userId !== undefined) language = (await this.deps.languageOf?.(userId)) ?? language;
      const r = await this.deps.send(to, notices(language).replyRefused());
      log.info({ reason, answer: r.status }, 'SMS reply refused; answered politely');
      return { status: 'refused', reason, answered: r.status === 'delivered' };
    } catch (e) {
      log.warn({ reason, err: e }, 'SMS reply refused; the polite answer failed');
      return { status: 'refused', reason, answered: false };
    }
  }

  /** Counts one event for `key` in the last hour; false when that would pass `max`. */
  private take(windows: Map<string, number[]>, key: string, max: number, now: number): boolean {
    const recent = (windows.get(key) ?? []).filter((t) => t > now - HOUR_MS);
    if (recent.length >= max) {
      windows.set(key, recent);
      return false;
    }
    recent.push(now);
    if (!windows.has(key) && windows.size >= MAX_TRACKED_SENDERS)
      for (const [k, v] of windows) if (!v.some((t) => t > now - HOUR_MS)) windows.delete(k);
    if (windows.size >= MAX_TRACKED_SENDERS) windows.delete(windows.keys().next().value as string);
    windows.set(key, recent);
    return true;
  }
}
