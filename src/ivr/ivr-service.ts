/**
 * The IVR: takes every inbound call from the call-control port and runs it as
 * a small state machine (log-on -> resume offer -> messages -> main menu and
 * its branches -> live chat -> goodbye); each state is a handler built of
 * verbs. Rules:
 * - Menus are validated when the service is built, before any call.
 * - A hang-up in any state unwinds the flow (CallEnded) to one cleanup that
 *   closes the phone link, clears timers and key listeners and deletes any
 *   recording left on the PBX; nothing half-written remains.
 * - Silence or wrong keys three times: "Sorry..." and goodbye.
 * - A fault in a flow is logged; the caller hears an apology, not silence.
 */
import type { AccountService } from '../accounts/account-service.js';
import type { User } from '../accounts/types.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { AppError } from '../core/errors.js';
import { type DetectOptions, preloadDetector } from '../core/language.js';
import type { Logger } from '../core/logger.js';
import { type CallOutcome, type Metrics, noMetrics } from '../core/metrics.js';
import type { ReverseLogonPort } from '../notify/reverse-logon-port.js';
import type { Call, CallControl } from '../telephony/port.js';
import { bodyLanguage, CallContext, CallEnded, GiveUp } from './context.js';
import { liveChat } from './flows/live-chat.js';
import { logon, offerResume } from './flows/logon.js';
import { mainMenu, setPresence, startChat, whoIsOnline } from './flows/main-menu.js';
import { readMessages } from './flows/messages.js';
import type { FlowServices, State } from './flows/types.js';
import { validateMenus } from './menus.js';
import { phrases } from './prompts.js';
import type { IvrAudioPort, IvrPresencePort, IvrResumePort } from './ports.js';
import { ReverseLogon } from './reverse-logon.js';
import { Hangup, run } from './verbs.js';

export interface IvrDeps {
  /** The PBX; absent until telephony is up (the admin CLI builds the IVR without one): see start(). */
  control?: CallControl;
  audio: IvrAudioPort;
  presence: IvrPresencePort;
  resume: IvrResumePort;
  accounts: AccountService;
  clock: Clock;
  config: Pick<Config, 'ivr'> & Partial<Pick<Config, 'language'>>;
  log: Logger;
  /** Log what the caller hears (the demo); off by default: message bodies are the users' own words. */
  tracePrompts?: boolean;
  metrics?: Metrics;
}

export class IvrService {
  readonly reverseLogon: ReverseLogonPort;
  private readonly deps: IvrDeps;
  private readonly services: FlowServices;
  private readonly calls = new Map<string, { ctx: CallContext; done: Promise<void> }>();
  private detach: (() => void) | null = null;
  private stopping = false;
  private control: CallControl | null;

  constructor(deps: IvrDeps) {
    validateMenus();
    this.deps = deps;
    this.services = { accounts: deps.accounts, presence: deps.presence, resume: deps.resume };
    this.control = deps.control ?? null;
    this.reverseLogon = new ReverseLogon(this, deps);
  }

  /** Starts taking inbound calls (from `control`, or the one given at construction). */
  start(control?: CallControl): void {
    if (control) this.control = control;
    const c = this.callControl;
    this.stopping = false;
    const { detect } = this.languageOptions;
    if (detect) void preloadDetector(detect);
    this.detach ??= c.onCall((call) => {
      void this.handleInbound(call);
    });
  }

  /** The PBX the IVR runs on; misuse before start(). */
  get callControl(): CallControl {
    if (!this.control) throw new AppError('IVR_VERB_PRECONDITION', 'the IVR has no call control: telephony is not up');
    return this.control;
  }

  get isStarted(): boolean {
    return this.detach !== null;
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  /** Calls in progress as an operator sees them, oldest first. */
  callsInProgress(): {
    id: string;
    direction: 'inbound' | 'outbound';
    caller: string;
    user: string | null;
    state: string;
    since: number;
  }[] {
    return this.contexts
      .map((c) => ({
        id: c.call.id,
        direction: c.call.direction,
        caller: c.call.direction === 'inbound' ? c.call.callerNumber : c.call.dialed,
        user: c.user?.username ?? null,
        state: c.state,
        since: c.startedAt,
      }))
      .sort((a, b) => a.since - b.since);
  }

  /** The contexts of calls in progress (tests look at them to prove cleanup). */
  get contexts(): CallContext[] {
    return [...this.calls.values()].map((c) => c.ctx);
  }

  newContext(call: Call): CallContext {
    const ctx = new CallContext(call, {
      control: this.callControl,
      audio: this.deps.audio,
      clock: this.deps.clock,
      config: this.deps.config.ivr,
      log: this.deps.log.child({ callId: call.id }),
      ...(this.deps.tracePrompts ? { tracePrompts: true } : {}),
      ...(this.deps.metrics ? { metrics: this.deps.metrics } : {}),
      ...this.languageOptions,
    });
    return ctx;
  }

  /** The default language and, when on, how a message body's own language is told (config `language`). */
  private get languageOptions(): { defaultLanguage?: string; detect?: DetectOptions } {
    const l = this.deps.config.language;
    if (!l) return {};
    return {
      defaultLanguage: l.default,
      ...(l.detectMessages
        ? { detect: { minLetters: l.detectMinLetters, minLead: l.detectMinLead, candidates: l.messageLanguages } }
        : {}),
    };
  }

  /** Runs an inbound call from answer to cleanup. */
  handleInbound(call: Call): Promise<void> {
    const ctx = this.newContext(call);
    if (this.stopping) {
      void call.hangup('congestion').catch(() => undefined);
      return Promise.resolve();
    }
    ctx.log.info({ from: call.callerNumber, dialed: call.dialed }, 'inbound call');
    return this.track(ctx, async () => {
      await call.answer();
      await this.runStates(ctx, { name: 'logon' });
    });
  }

  /** Runs `body` as a tracked call: errors become goodbyes, and cleanup always happens. */
  track(ctx: CallContext, body: () => Promise<void>, direction: 'inbound' | 'outbound' = 'inbound'): Promise<void> {
    const metrics = this.deps.metrics ?? noMetrics;
    metrics.callStarted(direction);
    const done = (async () => {
      let outcome: CallOutcome = 'completed';
      try {
        await body();
      } catch (e) {
        outcome = await this.endOnError(ctx, e);
      } finally {
        metrics.callEnded(direction, outcome);
        await ctx.dispose();
        this.calls.delete(ctx.call.id);
        if (ctx.call.isAlive) await ctx.call.hangup('normal').catch(() => undefined);
        ctx.log.info({ state: ctx.state }, 'call finished');
      }
    })();
    this.calls.set(ctx.call.id, { ctx, done });
    return done;
  }

  /** The state machine: each handler returns the next state until 'end'. */
  async runStates(ctx: CallContext, initial: State): Promise<void> {
    let state = initial;
    const svc = this.services;
    while (state.name !== 'end') {
      ctx.state = state.name;
      ctx.log.debug({ state: state.name }, 'state');
      // The unread list read ahead at log-on serves the list heard right after it, and nothing later.
      if (state.name !== 'logon' && state.name !== 'resume' && state.name !== 'messages') ctx.forgetUnread();
      switch (state.name) {
        case 'logon':
          state = await logon(ctx, svc);
          break;
        case 'resume':
          state = await offerResume(ctx, svc);
          break;
        case 'messages':
          state = await readMessages(ctx, svc);
          break;
        case 'main':
          state = await mainMenu(ctx, svc, state.lead);
          break;
        case 'online':
          state = await whoIsOnline(ctx, svc);
          break;
        case 'set-presence':
          state = await setPresence(ctx, svc);
          break;
        case 'start-chat':
          state = await startChat(ctx, svc);
          break;
        case 'live-chat':
          state = await liveChat(ctx, svc, state.sessionId);
          break;
        case 'goodbye':
          await run(ctx, new Hangup(state.prompts ?? ['goodbye']));
          state = { name: 'end' };
          break;
      }
    }
  }

  private async endOnError(ctx: CallContext, e: unknown): Promise<CallOutcome> {
    if (e instanceof CallEnded || !ctx.call.isAlive) {
      ctx.log.info({ state: ctx.state }, 'caller hung up');
      return 'hangup';
    }
    if (e instanceof GiveUp) {
      ctx.log.info({ state: ctx.state, menu: e.where }, 'no valid choice after the last try: goodbye');
      await this.goodbye(ctx, ['tooManyTries', 'goodbye']);
      return 'gave-up';
    }
    ctx.log.error({ err: e, state: ctx.state }, 'call flow failed');
    await this.goodbye(ctx, ['error']);
    return 'failed';
  }

  private async goodbye(ctx: CallContext, prompts: ('tooManyTries' | 'goodbye' | 'error')[]): Promise<void> {
    try {
      await run(ctx, new Hangup(prompts));
    } catch (e) {
      if (!(e instanceof CallEnded)) ctx.log.warn({ err: e }, 'could not say goodbye');
    }
  }

  /**
   * Renders ahead what the phone will say for a message to `recipientId` - its
   * envelope in the recipient's time zone and its body, as read in the list
   * and in a live chat - so that reading it later is a cache hit. Never fails.
   */
  async prerender(
    message: { fromUserId: number; kind: string; text: string | null; createdAt: number },
    recipientId: number,
  ): Promise<void> {
    const { accounts, audio, clock, config } = this.deps;
    let user: User | null;
    let from: string;
    try {
      user = await accounts.userById(recipientId);
      from = (await accounts.userById(message.fromUserId))?.spokenName ?? 'someone';
    } catch (e) {
      this.deps.log.warn({ err: e }, 'prerender skipped: the users could not be read');
      return;
    }
    if (!user) return;
    const { defaultLanguage, detect } = this.languageOptions;
    const language = user.language ?? defaultLanguage ?? 'en';
    const say = phrases(language);
    const texts: { text: string; language: string }[] = [
      { text: say.envelope(from, message.createdAt, clock.now(), user.timeZone), language },
    ];
    // What the phone will say for the body: the text (alone and as "Alice says: ..."), or, when the speech
    // engine cannot say it, the announcement in its place - rendered now, not after the caller's key. A body
    // in another language than the listener's is read in its own, after "Alice says:".
    if (message.kind !== 'voice' && message.text) {
      const own = await bodyLanguage(message.text, language, detect);
      if (audio.speakable?.(message.text) === false) texts.push({ text: say.cannotBeRead(from), language });
      else if (own)
        texts.push({ text: message.text, language: own }, { text: say.someoneSays(from, ' ').trim(), language });
      else texts.push({ text: message.text, language }, { text: say.someoneSays(from, message.text), language });
    }
    const voice = config.ivr.voice;
    for (const { text, language: lang } of texts)
      try {
        const opts = { ...(voice ? { voice } : {}), language: lang };
        await (audio.prerender ? audio.prerender(text, opts) : audio.speechUrl(text, opts));
      } catch (e) {
        // A message that cannot be spoken is announced when read; nothing to render ahead.
        this.deps.log.warn({ code: (e as { code?: string }).code }, 'rendering a message ahead failed');
      }
  }

  /** Stops taking calls, hangs up those in progress and waits for their cleanup. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.detach?.();
    this.detach = null;
    const running = [...this.calls.values()];
    await Promise.all(running.map((c) => c.ctx.call.hangup('normal').catch(() => undefined)));
    await Promise.all(running.map((c) => c.done));
  }
}
