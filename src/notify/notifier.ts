/**
 * The notifier: reaches a recipient who has no link, through the escalation
 * ladder built from their device registry, with durable jobs.
 *
 * Rules:
 * - An unreachable message opens an alert for its recipient (state
 *   collecting) or folds into the one already open: at most one open alert
 *   per recipient. After `collectDelaySeconds` the alert's ladder is built
 *   (see ladder.ts) and it runs; messages that arrive later still fold in and
 *   the later steps carry them.
 * - Each step is a row: scheduled -> in-progress -> delivered | failed |
 *   skipped, or cancelled while still scheduled. A step is claimed (one
 *   UPDATE that moves it to in-progress and counts the attempt) before it is
 *   performed, and recorded after. When it ends, the next step becomes due
 *   after the step's wait; a skipped step (quiet hours, device gone, no call
 *   port, a phone busy on another call) passes on at once.
 * - Exactly-once is impossible across a crash between "performed" and
 *   "recorded"; we choose AT MOST ONCE. A step found in-progress at start-up
 *   (this node stopped while performing it) is never performed again: it is
 *   marked failed (NOTIFY_STEP_INTERRUPTED) and the ladder moves on, so the
 *   next device is tried instead. Ringing someone's phone twice, or paging
 *   them twice, is worse than moving on. Transport-level retries follow the
 *   same rule: a server that says "try later" before taking the message is
 *   retried (up to maxAttempts); a lost answer after the message was handed
 *   over is not.
 * - The ladder stops when the recipient opens any link (recipientActive),
 *   reads one of the alert's messages (messageRead), accepts or declines the
 *   reverse log-on call (declined: the sender is told), or an administrator
 *   cancels it. Steps still scheduled become cancelled; a step in progress is
 *   aborted where its channel can be (the call), and recorded as it ends.
 * - All timing comes from the injected Clock.
 */
import { randomBytes } from 'node:crypto';
import type { AccountService } from '../accounts/account-service.js';
import type { Device, User } from '../accounts/types.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { AppError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import { checkText } from '../core/sanitize.js';
import { emailText, oneLine, pageText } from './compose.js';
import { GroupCommit } from './group-commit.js';
import { buildLadder, stepIsQuiet } from './ladder.js';
import type { EmailSender } from './mailer.js';
import type { PagerPort } from './pager.js';
import type {
  AudioAttachmentPort,
  DeliveryResult,
  LineStatePort,
  NewAlert,
  NotifyStore,
  SenderNoticePort,
  StepAfter,
  StepEnd,
} from './ports.js';
import { replyLinkUrl, signReplyToken } from './reply-link.js';
import type { ReverseLogonOutcome, ReverseLogonPort } from './reverse-logon-port.js';
import type { SmsReplies } from './sms-replies.js';
import type { Alert, AlertMessage, LadderOverride, PlannedStep, Step, UnreachableMessage } from './types.js';

export interface NotifierDeps {
  repo: NotifyStore;
  accounts: Pick<AccountService, 'userById' | 'devicesOf' | 'getUser'>;
  clock: Clock;
  config: Config;
  log: Logger;
  email: EmailSender;
  pager: PagerPort;
  /** Absent: call steps are skipped (and logged). */
  reverseLogon?: ReverseLogonPort | undefined;
  senderNotice?: SenderNoticePort | undefined;
  audio?: AudioAttachmentPort | undefined;
  /** Absent: a phone's line is taken as free. */
  lineState?: LineStatePort | undefined;
  linkSecret: string;
  /** Told after each delivered step, with the messages it carried (presence marks them notified). */
  onDelivered?: ((e: { recipientId: number; messageIds: string[]; channel: Step['channel'] }) => unknown) | undefined;
  /** The public web URL reply links point to (setBaseUrl changes it once the port is bound). */
  baseUrl: string;
  /** Where alerts opened and steps performed are reported. */
  metrics?: Metrics;
  /** Reply codes for pages sent over SMPP (sms-replies.ts); absent: pages invite no SMS reply. */
  smsReplies?: Pick<SmsReplies, 'codeFor' | 'isEnabled'> | undefined;
}

export interface NotifierPorts {
  reverseLogon: ReverseLogonPort | undefined;
  senderNotice: SenderNoticePort | undefined;
  audio: AudioAttachmentPort | undefined;
  lineState: LineStatePort | undefined;
}

type StepResult = {
  state: 'delivered' | 'failed' | 'skipped';
  outcome: string;
  code?: ErrorCode | string | undefined;
  /** Ends the alert (the call was answered). */
  stop?: 'accepted' | 'declined' | undefined;
  retry?: boolean | undefined;
  /** The recipient and the messages the step carried (read once, as it was performed). */
  carried?: { recipientId: number; messageIds: string[] } | undefined;
};

export interface AlertView extends Alert {
  recipient: string;
  messages: AlertMessage[];
  steps: Step[];
}

export interface TraceEvent {
  at: number;
  alertId: string;
  what: string;
}

const bad = (message: string, field: string) => new AppError('NOTIFY_INVALID_INPUT', message, { field });

export class Notifier {
  private readonly repo: NotifyStore;
  private readonly clock: Clock;
  private readonly cfg: Config['notify'];
  private readonly nodeId: string;
  private readonly log: Logger;
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private running = false;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private baseUrl: string;
  private ports: NotifierPorts;
  /** Messages folded and steps recorded in the same turn of the event loop share one commit. */
  private readonly folds: GroupCommit<
    { alert: NewAlert; message: UnreachableMessage; now: number },
    { alertId: string; folded: boolean }
  >;
  private readonly stepEnds: GroupCommit<{ step: Step; end: StepEnd; now: number }, StepAfter>;
  /**
   * Steps performing now: at most `concurrency`. A step's slot frees when its external action ends, not when
   * its end is committed (that commit is the writer's business, and it gates the ladder's next step anyway).
   */
  private performing = 0;
  /** Steps claimed and not yet recorded, performing or committing their end. */
  private readonly inflight = new Map<
    number,
    { alertId: string; channel: Step['channel']; abort: AbortController; done: Promise<void> }
  >();

  constructor(private readonly deps: NotifierDeps) {
    this.repo = deps.repo;
    this.clock = deps.clock;
    this.cfg = deps.config.notify;
    this.nodeId = deps.config.presence.nodeId;
    this.log = deps.log;
    this.baseUrl = deps.baseUrl;
    this.folds = new GroupCommit((items) => this.repo.foldMessages(items), this.cfg.commitWindowMs);
    this.stepEnds = new GroupCommit((items) => this.repo.recordStepEnds(items), this.cfg.commitWindowMs);
    this.ports = {
      reverseLogon: deps.reverseLogon,
      senderNotice: deps.senderNotice,
      audio: deps.audio,
      lineState: deps.lineState,
    };
  }

  /**
   * Plugs in ports built after the notifier (the IVR's reverse log-on, presence's sender notice, the audio
   * server's MP3s); a port given as undefined is removed. Steps started later use them.
   */
  attach(ports: Partial<NotifierPorts>): void {
    this.ports = { ...this.ports, ...ports };
  }

  /** The web server's public URL, once it is known (port 0 in tests). */
  setBaseUrl(url: string): void {
    this.baseUrl = url;
  }

  // ---- inputs from presence ---------------------------------------------------------

  /** A message found no link of its recipient: open an alert or fold it into the open one. */
  async messageUnreachable(input: {
    recipientId: number;
    message: UnreachableMessage;
  }): Promise<{ alertId: string; folded: boolean }> {
    const recipient = await this.recipient(input.recipientId);
    const m = checkMessage(input.message);
    const now = this.clock.now();
    const r = await this.folds.add({
      alert: {
        id: newAlertId(),
        recipientId: recipient.id,
        isTest: false,
        createdAt: now,
        collectUntil: now + this.cfg.collectDelaySeconds * 1000,
      },
      message: m,
      now,
    });
    if (!r.folded) this.deps.metrics?.alertOpened();
    this.log.info(
      { alert: r.alertId, user: recipient.username, message: m.id, folded: r.folded },
      r.folded ? 'message folded into the open alert' : 'alert opened',
    );
    this.pump();
    return r;
  }

  /** The recipient opened a link (web, phone, XMPP): stop their ladder. Returns the alerts cancelled. */
  /**
   * The recipient showed up: the alert ends and no further step is taken. A
   * call-back still ringing is abandoned, unless the activity came by phone:
   * then it is most likely that very call (the callee accepted and became a
   * phone link), and its own outcome ends it.
   */
  async recipientActive(userId: number, options: { viaPhone?: boolean } = {}): Promise<number> {
    const open = await this.repo.openAlertOf(userId);
    if (!open) return 0;
    return (await this.cancelAlert(open.id, 'recipient active', !options.viaPhone)) ? 1 : 0;
  }

  async messageRead(userId: number, messageId: string): Promise<number> {
    let n = 0;
    for (const a of await this.repo.alertsOfMessage(messageId))
      if (a.recipientId === userId && (a.state === 'collecting' || a.state === 'running'))
        if (await this.cancelAlert(a.id, 'message read', false))
          // A call in progress is not cut: hearing the message on that call is how it gets read.
          n++;
    return n;
  }

  // ---- administration ---------------------------------------------------------------------

  async list(filter: { state?: Alert['state']; user?: string | number; limit?: number } = {}): Promise<Alert[]> {
    return await this.repo.listAlerts({
      state: filter.state,
      recipientId: filter.user === undefined ? undefined : (await this.deps.accounts.getUser(filter.user)).id,
      limit: filter.limit,
    });
  }

  async show(alertId: string): Promise<AlertView> {
    const a = await this.alertOrThrow(alertId);
    return {
      ...a,
      recipient: (await this.deps.accounts.userById(a.recipientId))?.username ?? `#${a.recipientId}`,
      messages: await this.repo.messages(a.id),
      steps: await this.repo.steps(a.id),
    };
  }

  /** The recipient answered the alert another way (a text message): its ladder stops. False when it had ended. */
  async answered(alertId: string, how: string): Promise<boolean> {
    return await this.cancelAlert(alertId, `answered by ${how}`);
  }

  /** An administrator stops an open alert. */
  async cancel(alertId: string): Promise<Alert> {
    const a = await this.alertOrThrow(alertId);
    if (!(await this.cancelAlert(a.id, 'cancelled by an administrator')))
      throw new AppError('NOTIFY_ALERT_ENDED', `alert ${a.id} has already ended (${a.state})`);
    return await this.alertOrThrow(alertId);
  }

  /** An administrator runs an ended alert's failed and cancelled steps again, from the first of them. */
  async retry(alertId: string): Promise<Alert> {
    const a = await this.alertOrThrow(alertId);
    if (a.state === 'collecting' || a.state === 'running')
      throw new AppError('NOTIFY_NOT_RETRYABLE', `alert ${a.id} is still ${a.state}`);
    const now = this.clock.now();
    const r = await this.repo.retryAlert(a.id, now);
    if (r === 'busy') throw new AppError('NOTIFY_ALERT_BUSY', 'the recipient has another open alert; cancel it first');
    if (r === 'nothing') throw new AppError('NOTIFY_NOT_RETRYABLE', `alert ${a.id} has no failed or cancelled step`);
    this.log.info({ alert: a.id }, 'alert retried by an administrator');
    this.pump();
    return await this.alertOrThrow(alertId);
  }

  /** Whether a message to this recipient has been in an alert already (a restart must not alert it twice). */
  async hasAlerted(recipientId: number, messageId: string): Promise<boolean> {
    return await this.repo.hasAlerted(recipientId, messageId);
  }

  /** Fires a user's ladder now, with a test message and no collect delay. */
  async test(userRef: string | number): Promise<Alert> {
    const user = await this.deps.accounts.getUser(userRef);
    const now = this.clock.now();
    const id = newAlertId();
    const opened = await this.repo.openAlertWith(
      { id, recipientId: user.id, isTest: true, createdAt: now, collectUntil: now },
      {
        id: `test-${id}`,
        sessionId: `test-${id}`,
        fromUserId: user.id,
        fromName: 'Phone IM',
        fromSpokenName: 'Phone I M',
        text: 'This is a test alert. You can ignore it.',
        at: now,
      },
      now,
    );
    if (!opened) throw new AppError('NOTIFY_ALERT_BUSY', `${user.username} already has an open alert; cancel it first`);
    this.log.info({ alert: id, user: user.username }, 'test alert fired');
    this.pump();
    return await this.alertOrThrow(id);
  }

  /** Every step of how a message was, or was not, delivered through the notifier. */
  async trace(messageId: string): Promise<TraceEvent[]> {
    const out: TraceEvent[] = [];
    for (const a of [...(await this.repo.alertsOfMessage(messageId))].reverse()) {
      const m = (await this.repo.messages(a.id)).find((x) => x.id === messageId);
      const who = (await this.deps.accounts.userById(a.recipientId))?.username ?? `#${a.recipientId}`;
      out.push({
        at: a.createdAt,
        alertId: a.id,
        what: `alert opened for ${who}${a.isTest ? ' (test)' : ''}; collect delay until ${iso(a.collectUntil)}`,
      });
      if (m && m.addedAt > a.createdAt)
        out.push({ at: m.addedAt, alertId: a.id, what: `message ${messageId} folded into the alert` });
      for (const s of await this.repo.steps(a.id)) {
        const target = `step ${s.position} ${s.channel}${s.protocol ? `/${s.protocol}` : ''} ${s.address}`;
        if (s.startedAt !== null)
          out.push({ at: s.startedAt, alertId: a.id, what: `${target}: started (attempt ${s.attempts})` });
        if (s.state === 'scheduled')
          out.push({
            at: s.dueAt ?? a.collectUntil,
            alertId: a.id,
            what: `${target}: scheduled${s.dueAt ? ` for ${iso(s.dueAt)}` : ' (after the step before it)'}${s.outcome ? `; last try: ${s.outcome}` : ''}`,
          });
        else if (s.state !== 'in-progress')
          out.push({
            at: s.endedAt ?? s.startedAt ?? a.createdAt,
            alertId: a.id,
            what: `${target}: ${s.state}${s.outcome ? ` (${s.outcome})` : ''}${s.errorCode ? ` [${s.errorCode}]` : ''}`,
          });
      }
      if (a.endedAt !== null)
        out.push({ at: a.endedAt, alertId: a.id, what: `alert ${a.state}: ${a.reason ?? ''}`.trimEnd() });
    }
    return out.sort((x, y) => x.at - y.at);
  }

  /** The user's ladder as it would run now: their own, or the default from the registry. */
  async ladder(userRef: string | number): Promise<{ user: User; source: 'user' | 'default'; steps: PlannedStep[] }> {
    const user = await this.deps.accounts.getUser(userRef);
    const override = await this.repo.ladderOf(user.id);
    return {
      user,
      source: override ? 'user' : 'default',
      steps: buildLadder(await this.deps.accounts.devicesOf(user.id), override, this.cfg),
    };
  }

  /** Sets a user's own ladder: device ids of their registry in order, each with an optional wait. Empty: never alert. */
  async setLadder(userRef: string | number, steps: LadderOverride[]): Promise<void> {
    const user = await this.deps.accounts.getUser(userRef);
    const devices = new Set((await this.deps.accounts.devicesOf(user.id)).map((d) => d.id));
    const seen = new Set<number>();
    for (const s of steps) {
      if (!devices.has(s.deviceId))
        throw new AppError('ACCOUNTS_DEVICE_NOT_FOUND', `user "${user.username}" has no device ${s.deviceId}`);
      if (seen.has(s.deviceId)) throw bad(`device ${s.deviceId} appears twice in the ladder`, 'ladder');
      seen.add(s.deviceId);
      if (
        s.waitSeconds !== undefined &&
        (!Number.isInteger(s.waitSeconds) || s.waitSeconds < 0 || s.waitSeconds > 86_400)
      )
        throw bad('a wait must be 0 to 86400 seconds', 'wait');
    }
    await this.repo.setLadder(
      user.id,
      steps.map((s) => (s.waitSeconds === undefined ? { deviceId: s.deviceId } : s)),
      this.clock.now(),
    );
  }

  async clearLadder(userRef: string | number): Promise<boolean> {
    return await this.repo.clearLadder((await this.deps.accounts.getUser(userRef)).id);
  }

  // ---- the scheduler ---------------------------------------------------------------------------

  /** Recovers steps this node left in progress (never performing them again), then runs what is due. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.repo.warm?.();
    const now = this.clock.now();
    for (const s of await this.repo.inProgressOf(this.nodeId)) {
      this.log.warn({ alert: s.alertId, step: s.position }, 'step was in progress when the notifier stopped');
      await this.recordInterrupted(s, now);
    }
    this.pump();
  }

  private recordInterrupted(s: Step, now: number): Promise<void> {
    return this.record(
      s,
      {
        state: 'failed',
        outcome: 'interrupted: the notifier stopped while performing this step; not repeated',
        code: 'NOTIFY_STEP_INTERRUPTED',
      },
      now,
    );
  }

  /** Stops scheduling, aborts what can be aborted, and waits for steps in flight to be recorded. */
  async stop(): Promise<void> {
    this.running = false;
    await this.pumping;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const pending = [...this.inflight.values()];
    for (const f of pending) f.abort.abort();
    await Promise.allSettled(pending.map((f) => f.done));
    this.deps.email.close();
    this.deps.pager.close?.();
  }

  /** Resolves when no step is in flight and no round of the scheduler runs (tests and the benchmark wait on it). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0 || this.pumping) {
      await this.pumping;
      await Promise.allSettled([...this.inflight.values()].map((f) => f.done));
    }
  }

  get stepsInFlight(): number {
    return this.inflight.size;
  }

  /** Runs what is due; one round at a time (a call while one runs asks for another round after it). */
  private pump(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.pumpRound()
      .catch((e: unknown) => this.log.error({ err: e }, 'the notifier could not run its due work'))
      .finally(() => {
        this.pumping = undefined;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.pump();
        }
      });
  }

  private async pumpRound(): Promise<void> {
    const now = this.clock.now();
    // A node that died in the middle of a step: once its lease lapsed, one living node closes that step.
    for (const s of await this.repo.adoptStepsOfLapsedNodes(this.nodeId, now)) {
      this.log.warn(
        { alert: s.alertId, step: s.position, node: s.nodeId },
        'step of a dead node closed as interrupted',
      );
      await this.recordInterrupted(s, now);
    }
    const starting = await this.startLadders(await this.repo.collectedAlerts(now, 1000), now);
    // Asked right behind the ladders' start, so the first steps are claimed in the same commit (SQLite's
    // writer runs both in one transaction). A store that runs them apart (PostgreSQL: two pooled connections)
    // may claim before the start commits: with room left, it is asked again once the start has committed.
    // Ends waiting for their commit are bounded too: at most as many again as perform at once.
    const free = Math.min(this.cfg.concurrency - this.performing, 2 * this.cfg.concurrency - this.inflight.size);
    const claiming = this.repo.claimDueSteps(this.nodeId, now, free);
    await starting.committed;
    const claimed = await claiming;
    if (starting.count > 0 && claimed.length < free)
      claimed.push(...(await this.repo.claimDueSteps(this.nodeId, now, free - claimed.length)));
    for (const s of claimed) this.launch(s);
    await this.arm(now);
  }

  private async arm(now: number): Promise<void> {
    // Also wake every pollSeconds: the CLI and other nodes write alerts this process has no timer for.
    const poll = now + this.cfg.pollSeconds * 1000;
    const full = this.performing >= this.cfg.concurrency || this.inflight.size >= 2 * this.cfg.concurrency;
    const next = full ? null : await this.repo.nextDueAt(); // a finishing step pumps
    // The store was read meanwhile: the delay counts from the clock as it is now.
    const at = Math.max(Math.min(next ?? poll, poll), this.clock.now());
    if (!this.running || (this.timer && this.timerAt <= at)) return;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.pump();
    }, at - this.clock.now());
  }

  /**
   * Builds the ladders of collected alerts and asks for them all to start in one commit; resolves once
   * that commit is asked for, with its end (`committed` never rejects: a ladder that could not start is logged).
   */
  private async startLadders(alerts: Alert[], now: number): Promise<{ committed: Promise<void>; count: number }> {
    if (alerts.length === 0) return { committed: Promise.resolve(), count: 0 };
    const planned = await Promise.all(
      alerts.map(async (a) => {
        const recipient = await this.deps.accounts.userById(a.recipientId);
        const steps = recipient
          ? buildLadder(
              await this.deps.accounts.devicesOf(a.recipientId),
              await this.repo.ladderOf(a.recipientId),
              this.cfg,
            )
          : [];
        return { alert: a, user: recipient?.username, steps };
      }),
    );
    const started = this.repo.startAlerts(
      planned.map((p) => ({
        id: p.alert.id,
        steps: p.steps,
        emptyReason: 'no devices in the ladder: nobody to reach',
      })),
      now,
    );
    const committed = started.then(
      (results) =>
        results.forEach((r, i) => {
          const p = planned[i] as (typeof planned)[number];
          if (r.status === 'rejected') this.log.error({ alert: p.alert.id, err: r.reason }, 'could not start a ladder');
          else if (r.value) this.log.info({ alert: p.alert.id, user: p.user, steps: p.steps.length }, 'ladder started');
        }),
      (e: unknown) => this.log.error({ err: e, alerts: planned.length }, 'could not start the ladders'),
    );
    return { committed, count: alerts.length };
  }

  private launch(step: Step): void {
    const abort = new AbortController();
    this.performing++;
    const done = this.perform(step, abort.signal)
      .catch(
        (e: unknown): StepResult => ({
          state: 'failed',
          outcome: `internal error: ${oneLine(String((e as Error)?.message ?? e), 200)}`,
          code: 'CORE_INTERNAL',
        }),
      )
      .then((result) => {
        this.performing--;
        const recorded = this.record(step, result, this.clock.now());
        this.pump(); // the slot is free: another due step may start while this one's end commits
        return recorded;
      })
      .catch((e: unknown) => {
        this.log.error({ err: e, step: step.id }, 'could not record a step');
      })
      .finally(() => {
        this.inflight.delete(step.id);
        this.pump();
      });
    this.inflight.set(step.id, { alertId: step.alertId, channel: step.channel, abort, done });
  }

  /** Records a step's end and moves the ladder on, in one transaction. */
  private async record(step: Step, r: StepResult, now: number): Promise<void> {
    const willRetry = r.retry === true && step.attempts < this.cfg.maxAttempts;
    // A step that reached nobody leaves nothing to wait for: the next one runs at once.
    const wait = r.state === 'skipped' || r.state === 'failed' ? 0 : step.waitMs;
    const after = await this.stepEnds.add({
      step,
      end: {
        state: r.state,
        outcome: r.outcome,
        errorCode: r.code ?? null,
        stop: r.stop,
        retryAt: willRetry ? now + this.cfg.retryDelaySeconds * 1000 : undefined,
        nextDueAt: now + wait,
      },
      now,
    });
    const fields = {
      alert: step.alertId,
      step: step.position,
      channel: step.channel,
      state: r.state,
      outcome: r.outcome,
      code: r.code,
    };
    this.deps.metrics?.alertStep(step.channel, after === 'retry' ? 'retry' : r.state);
    if (r.state === 'failed' && after !== 'retry') this.log.warn(fields, 'alert step failed');
    else this.log.info({ ...fields, next: after }, 'alert step ended');
    if (after === 'declined') void this.tellDeclined(step);
    // The messages the step carried, as perform read them: one folded into the alert meanwhile was not told.
    if (r.state === 'delivered' && this.deps.onDelivered && r.carried)
      await this.deps.onDelivered({ ...r.carried, channel: step.channel });
  }

  private async perform(step: Step, signal: AbortSignal): Promise<StepResult> {
    const alert = await this.repo.alert(step.alertId);
    if (alert?.state !== 'running') return { state: 'skipped', outcome: 'the alert is no longer running' };
    const user = await this.deps.accounts.userById(alert.recipientId);
    if (!user) return { state: 'skipped', outcome: 'the recipient no longer exists' };
    const device = (await this.deps.accounts.devicesOf(user.id)).find((d) => d.id === step.deviceId);
    if (!device) return { state: 'skipped', outcome: 'the device was removed from the registry' };
    const now = this.clock.now();
    if (stepIsQuiet(device, user.timeZone, now))
      return {
        state: 'skipped',
        outcome: `quiet hours (${device.quietStart}-${device.quietEnd} ${user.timeZone})`,
      };
    const messages = await this.repo.messages(alert.id);
    if (messages.length === 0) return { state: 'skipped', outcome: 'no message to tell about' };
    const result = await this.performOn(step, alert, user, device, messages, now, signal);
    result.carried = { recipientId: alert.recipientId, messageIds: messages.map((m) => m.id) };
    return result;
  }

  private performOn(
    step: Step,
    alert: Alert,
    user: User,
    device: Device,
    messages: AlertMessage[],
    now: number,
    signal: AbortSignal,
  ): Promise<StepResult> {
    switch (step.channel) {
      case 'call':
        return this.call(alert, user, device, messages, signal);
      case 'page':
        return this.page(step, alert, user, messages, now);
      case 'email':
        return this.email(step, alert, user, messages, now);
    }
  }

  /** A voice message's audio URL, signed now: the one stored with the alert may have expired. */
  private audioUrlOf(m: AlertMessage): string | undefined {
    if (m.audioId && this.ports.audio?.signedUrl)
      try {
        return this.ports.audio.signedUrl(m.audioId, 'wav');
      } catch (e) {
        this.log.warn({ audio: m.audioId, err: e }, 'could not sign an audio URL; using the stored one');
      }
    return m.audioUrl;
  }

  private async call(
    alert: Alert,
    user: User,
    device: Device,
    messages: AlertMessage[],
    signal: AbortSignal,
  ): Promise<StepResult> {
    const port = this.ports.reverseLogon;
    if (!port) {
      this.log.warn({ alert: alert.id, user: user.username }, 'no reverse log-on port: call step skipped');
      return { state: 'skipped', outcome: 'no reverse log-on port configured' };
    }
    // Ringing a phone that is in a call would reach nobody (or cut into that call): the ladder moves on.
    const busyOn = await this.ports.lineState?.busyOn(device);
    if (busyOn) return { state: 'skipped', outcome: `busy on another call (${busyOn} in use)` };
    const first = messages[0] as AlertMessage;
    const outcome: ReverseLogonOutcome = await port.call(
      {
        alertId: alert.id,
        userId: user.id,
        phoneNumber: device.address,
        senderSpokenName: first.fromSpokenName,
        senderUserId: first.fromUserId,
        sessionId: first.sessionId,
        messages: messages
          .filter((m) => m.sessionId === first.sessionId)
          .map((m) => {
            const audioUrl = this.audioUrlOf(m);
            return { id: m.id, text: m.text, ...(audioUrl ? { audioUrl } : {}) };
          }),
        ringSeconds: this.cfg.ringSeconds,
        leaveVoicemail: this.cfg.leaveVoicemail,
        isTest: alert.isTest,
      },
      signal,
    );
    switch (outcome.status) {
      case 'accepted':
        return { state: 'delivered', outcome: 'accepted: the recipient joined by phone', stop: 'accepted' };
      case 'declined':
        return { state: 'delivered', outcome: 'declined by the recipient', stop: 'declined' };
      case 'machine':
        return outcome.leftVoicemail
          ? { state: 'delivered', outcome: 'answering machine: message left as voice mail' }
          : { state: 'failed', outcome: 'answering machine' };
      case 'no-answer':
      case 'busy':
      case 'no-response':
        return { state: 'failed', outcome: outcome.status };
      case 'failed':
        return { state: 'failed', outcome: `call failed: ${oneLine(outcome.reason, 200)}` };
    }
  }

  /** The language the recipient reads (language.default when they chose none). */
  private languageOf(user: User): string {
    return user.language ?? this.deps.config.language?.default ?? 'en';
  }

  private async page(step: Step, alert: Alert, user: User, messages: AlertMessage[], now: number): Promise<StepResult> {
    const first = messages[0] as AlertMessage;
    const sms = this.deps.smsReplies;
    const replyCode =
      step.protocol === 'smpp' && sms?.isEnabled && !alert.isTest
        ? await sms.codeFor({
            alertId: alert.id,
            userId: user.id,
            sessionId: first.sessionId,
            phone: step.address,
            senderName: first.fromName,
          })
        : undefined;
    const text = pageText(messages, {
      callbackNumber: this.cfg.callbackNumber,
      maxChars: this.cfg.pageMaxChars,
      language: this.languageOf(user),
      replyCode,
    });
    const r = await this.deps.pager.page(
      { protocol: (step.protocol ?? 'snpp') as 'snpp' | 'smpp' | 'email', address: step.address },
      text,
      { messageId: this.messageIdOf(step), date: new Date(now) },
    );
    return this.fromDelivery(r);
  }

  private async email(
    step: Step,
    alert: Alert,
    user: User,
    messages: AlertMessage[],
    now: number,
  ): Promise<StepResult> {
    const last = messages[messages.length - 1] as AlertMessage;
    const token = signReplyToken(this.deps.linkSecret, {
      userId: user.id,
      sessionId: last.sessionId,
      alertId: alert.id,
      expiresAt: now + this.cfg.replyLinkTtlSeconds * 1000,
    });
    const parts = emailText(messages, {
      recipientName: user.displayName,
      timeZone: user.timeZone,
      replyUrl: replyLinkUrl(this.baseUrl, token),
      callbackNumber: this.cfg.callbackNumber,
      isTest: alert.isTest,
      maxMessages: this.cfg.emailMaxMessages,
      language: this.languageOf(user),
    });
    const attachments: { filename: string; content: Buffer; contentType: string }[] = [];
    const notes: string[] = [];
    // Only the messages the email lists carry their audio.
    for (const m of parts.listed) {
      if (!m.audioId) continue;
      if (!this.ports.audio) {
        notes.push('no audio port: voice message not attached');
        continue;
      }
      try {
        const mp3 = await this.ports.audio.mp3For(m.audioId);
        attachments.push({ filename: mp3.filename, content: mp3.content, contentType: 'audio/mpeg' });
      } catch (e) {
        notes.push(`audio ${m.audioId} not attached: ${oneLine(String((e as Error)?.message ?? e), 100)}`);
        this.log.warn({ alert: alert.id, audio: m.audioId, code: 'NOTIFY_AUDIO_UNAVAILABLE' }, 'audio not attached');
      }
    }
    const senders = [...new Set(messages.map((m) => m.fromName))];
    const r = await this.deps.email.send({
      to: step.address,
      fromName: senders.length === 1 ? `${senders[0]} via Phone IM` : undefined,
      subject: parts.subject,
      text: parts.text,
      messageId: this.messageIdOf(step),
      date: new Date(now),
      attachments,
    });
    const result = this.fromDelivery(r);
    if (notes.length) result.outcome += `; ${notes.join('; ')}`;
    return result;
  }

  private fromDelivery(r: DeliveryResult): StepResult {
    if (r.status === 'delivered') return { state: 'delivered', outcome: r.detail };
    return { state: 'failed', outcome: r.detail, code: r.code, retry: r.status === 'retry' };
  }

  private messageIdOf(step: Step): string {
    return `<${step.alertId}.${step.position}.${step.attempts}@phoneim.notify>`;
  }

  private async tellDeclined(step: Step): Promise<void> {
    const alert = await this.repo.alert(step.alertId);
    const first = alert ? (await this.repo.messages(alert.id))[0] : undefined;
    const recipient = alert ? await this.deps.accounts.userById(alert.recipientId) : null;
    if (!alert || !first || !recipient || alert.isTest) return;
    if (!this.ports.senderNotice) {
      this.log.warn({ alert: alert.id }, 'declined, but no sender-notice port: the sender is not told');
      return;
    }
    try {
      await this.ports.senderNotice.tellSender({
        senderUserId: first.fromUserId,
        sessionId: first.sessionId,
        recipientId: recipient.id,
        text: `${oneLine(recipient.displayName, 80)} declined your call-back request.`,
      });
    } catch (e) {
      this.log.warn({ alert: alert.id, err: e }, 'could not tell the sender about the decline');
    }
  }

  private async cancelAlert(alertId: string, reason: string, abortCalls = true): Promise<boolean> {
    const now = this.clock.now();
    if (!(await this.repo.cancelAlert(alertId, reason, now))) return false;
    for (const f of this.inflight.values())
      if (f.alertId === alertId && (abortCalls || f.channel !== 'call')) f.abort.abort();
    this.log.info({ alert: alertId, reason }, 'alert cancelled');
    return true;
  }

  private async alertOrThrow(id: string): Promise<Alert> {
    const a = await this.repo.alert(id);
    if (!a) throw new AppError('NOTIFY_ALERT_NOT_FOUND', `no alert "${oneLine(String(id), 40)}"`);
    return a;
  }

  private async recipient(id: number): Promise<User> {
    if (!Number.isSafeInteger(id)) throw bad('recipientId must be a user id', 'recipientId');
    const u = await this.deps.accounts.userById(id);
    if (!u) throw new AppError('ACCOUNTS_USER_NOT_FOUND', `no user ${id}`);
    return u;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

function newAlertId(): string {
  return `al-${randomBytes(5).toString('hex')}`;
}

function checkMessage(m: UnreachableMessage): UnreachableMessage {
  if (typeof m !== 'object' || m === null) throw bad('message must be an object', 'message');
  const id = checkText(m.id, { field: 'message id', maxChars: 128, code: 'NOTIFY_INVALID_INPUT' });
  const sessionId = checkText(m.sessionId, { field: 'session id', maxChars: 128, code: 'NOTIFY_INVALID_INPUT' });
  if (!Number.isSafeInteger(m.fromUserId)) throw bad('fromUserId must be a user id', 'fromUserId');
  if (!Number.isFinite(m.at)) throw bad('at must be a time in ms', 'at');
  // Names are kept as given (minus control characters): they are made safe again where they are used.
  const fromName = oneLine(checkString(m.fromName, 'fromName'), 120) || 'someone';
  const fromSpokenName = oneLine(checkString(m.fromSpokenName, 'fromSpokenName'), 120) || fromName;
  const text = checkString(m.text, 'text');
  if (text.length > 100_000) throw bad('text is longer than 100000 characters', 'text');
  const opt = (v: unknown, field: string) =>
    v === undefined || v === null ? undefined : checkText(v, { field, maxChars: 2048, code: 'NOTIFY_INVALID_INPUT' });
  return {
    id,
    sessionId,
    fromUserId: m.fromUserId,
    fromName,
    fromSpokenName,
    text,
    audioId: opt(m.audioId, 'audio id'),
    audioUrl: opt(m.audioUrl, 'audio url'),
    at: m.at,
  };
}

function checkString(v: unknown, field: string): string {
  if (typeof v !== 'string') throw bad(`${field} must be text`, field);
  return v;
}
