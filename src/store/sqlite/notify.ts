/** The notifier's storage (NotifyStore) on SQLite: alerts, their messages, ladder steps, per-user ladders. */
import type { AlertFilter, NewAlert, StepAfter, StepEnd } from '../../notify/ports.js';
import type {
  Alert,
  AlertMessage,
  LadderOverride,
  PlannedStep,
  Step,
  StepState,
  UnreachableMessage,
} from '../../notify/types.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import {
  type AlertRow,
  MESSAGE_INSERT_COLS,
  type MessageRow,
  messageParams,
  type StepRow,
  toAlert,
  toLadder,
  toMessage,
  toStep,
} from '../rows/notify.js';

/** The notifier's hot commits, which the writer thread runs (notify-writer.ts) unless the store is inline. */
export const NOTIFY_WRITES = ['claimDueSteps', 'recordStepEnds', 'foldMessages', 'startAlerts'] as const;
export type NotifyWrite = (typeof NOTIFY_WRITES)[number];

/** Synchronous; offered as a NotifyStore through `promised` (index.ts). */
export class SqliteNotify {
  /** Statements compiled once: the scheduler runs the same few thousands of times a second under load. */
  private readonly statements = new Map<string, Statement>();
  private readonly isDurable: boolean;

  /** `durable`: the connection is synchronous=FULL for good (the writer thread's own). */
  constructor(
    private readonly db: Db,
    options: { durable?: boolean } = {},
  ) {
    this.isDurable = options.durable === true;
    if (this.isDurable) db.pragma('synchronous = FULL');
  }

  private sql(text: string): Statement {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  /**
   * The notifier's writes record what was performed (a step claimed, sent, ended): they are made durable
   * at commit (synchronous=FULL), so a power loss cannot roll back a step that went out and repeat it.
   */
  private transaction<T>(fn: () => T): T {
    // IMMEDIATE: another connection (the writer thread, or this one) may write between a read and a write
    // of a deferred transaction, which SQLite then fails at once instead of waiting (SQLITE_BUSY_SNAPSHOT).
    if (this.db.inTransaction) return this.db.transaction(fn)();
    if (this.isDurable) return this.db.transaction(fn).immediate();
    this.sql('PRAGMA synchronous = FULL').run();
    try {
      return this.db.transaction(fn).immediate();
    } finally {
      this.sql('PRAGMA synchronous = NORMAL').run();
    }
  }

  // ---- alerts ------------------------------------------------------------------

  openAlertOf(recipientId: number): Alert | null {
    const r = this.sql(`SELECT * FROM notify_alerts WHERE recipient_id = ? AND state IN ('collecting', 'running')`).get(
      recipientId,
    ) as AlertRow | undefined;
    return r ? toAlert(r) : null;
  }

  alert(id: string): Alert | null {
    const r = this.sql('SELECT * FROM notify_alerts WHERE id = ?').get(id) as AlertRow | undefined;
    return r ? toAlert(r) : null;
  }

  private insertAlert(a: NewAlert): void {
    this.sql(
      `INSERT INTO notify_alerts (id, recipient_id, state, is_test, created_at, collect_until)
         VALUES (?, ?, 'collecting', ?, ?, ?)`,
    ).run(a.id, a.recipientId, a.isTest ? 1 : 0, a.createdAt, a.collectUntil);
  }

  listAlerts(f: AlertFilter = {}): Alert[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.state === 'failed') where.push(`state = 'done' AND failed = 1`);
    else if (f.state) {
      where.push(f.state === 'done' ? 'state = ? AND failed = 0' : 'state = ?');
      args.push(f.state);
    }
    if (f.recipientId !== undefined) {
      where.push('recipient_id = ?');
      args.push(f.recipientId);
    }
    const sql = `SELECT * FROM notify_alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, rowid DESC LIMIT ?`;
    return (this.sql(sql).all(...args, f.limit ?? 100) as AlertRow[]).map(toAlert);
  }

  /** Alerts whose collect delay is over, due at or before `now`. */
  collectedAlerts(now: number, limit: number): Alert[] {
    return (
      this.sql(
        `SELECT * FROM notify_alerts WHERE state = 'collecting' AND collect_until <= ? ORDER BY collect_until LIMIT ?`,
      ).all(now, limit) as AlertRow[]
    ).map(toAlert);
  }

  /** Moves collecting -> running; false when someone else (or a cancel) got there first. */
  private collectingToRunning(id: string): boolean {
    return (
      this.sql(`UPDATE notify_alerts SET state = 'running' WHERE id = ? AND state = 'collecting'`).run(id).changes === 1
    );
  }

  /** Ends an open alert; false when it had already ended. */
  private endAlert(id: string, state: 'done' | 'cancelled' | 'failed', reason: string, at: number): boolean {
    return (
      this.sql(
        `UPDATE notify_alerts SET state = ?, failed = ?, reason = ?, ended_at = ? WHERE id = ? AND state IN ('collecting', 'running')`,
      ).run(state === 'failed' ? 'done' : state, state === 'failed' ? 1 : 0, reason, at, id).changes === 1
    );
  }

  /** Whether any step of the alert reached its recipient. */
  private anyDelivered(alertId: string): boolean {
    return (
      this.sql(`SELECT 1 FROM notify_steps WHERE alert_id = ? AND state = 'delivered' LIMIT 1`).get(alertId) !==
      undefined
    );
  }

  /** Whether a message to this recipient has ever been in an alert (so a restart does not alert it again). */
  hasAlerted(recipientId: number, messageId: string): boolean {
    return (
      this.sql(
        `SELECT 1 FROM notify_alert_messages m JOIN notify_alerts a ON a.id = m.alert_id
           WHERE a.recipient_id = ? AND m.message_id = ? LIMIT 1`,
      ).get(recipientId, messageId) !== undefined
    );
  }

  private reopenAlert(id: string): void {
    this.sql(`UPDATE notify_alerts SET state = 'running', failed = 0, reason = NULL, ended_at = NULL WHERE id = ?`).run(
      id,
    );
  }

  // ---- messages ----------------------------------------------------------------

  /** Adds a message to an alert; false when it was already there. */
  private addMessage(alertId: string, m: UnreachableMessage, addedAt: number): boolean {
    return (
      this.sql(
        `INSERT OR IGNORE INTO notify_alert_messages (${MESSAGE_INSERT_COLS})
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(...messageParams(alertId, m, addedAt)).changes === 1
    );
  }

  messages(alertId: string): AlertMessage[] {
    return (
      this.sql('SELECT * FROM notify_alert_messages WHERE alert_id = ? ORDER BY at, rowid').all(alertId) as MessageRow[]
    ).map(toMessage);
  }

  /** Every alert that carried this message, newest first. */
  alertsOfMessage(messageId: string): Alert[] {
    return (
      this.sql(
        `SELECT a.* FROM notify_alerts a JOIN notify_alert_messages m ON m.alert_id = a.id
           WHERE m.message_id = ? ORDER BY a.created_at DESC`,
      ).all(messageId) as AlertRow[]
    ).map(toAlert);
  }

  // ---- steps ---------------------------------------------------------------------

  private insertSteps(alertId: string, steps: PlannedStep[], firstDueAt: number): void {
    const ins = this.sql(
      `INSERT INTO notify_steps (alert_id, position, channel, device_id, protocol, address, wait_ms, state, due_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'scheduled', ?)`,
    );
    steps.forEach((s, i) => {
      ins.run(alertId, i + 1, s.channel, s.deviceId, s.protocol, s.address, s.waitMs, i === 0 ? firstDueAt : null);
    });
  }

  steps(alertId: string): Step[] {
    return (this.sql('SELECT * FROM notify_steps WHERE alert_id = ? ORDER BY position').all(alertId) as StepRow[]).map(
      toStep,
    );
  }

  step(id: number): Step | null {
    const r = this.sql('SELECT * FROM notify_steps WHERE id = ?').get(id) as StepRow | undefined;
    return r ? toStep(r) : null;
  }

  private dueSteps(now: number, limit: number): Step[] {
    return (
      this.sql(
        `SELECT * FROM notify_steps WHERE state = 'scheduled' AND due_at IS NOT NULL AND due_at <= ?
           ORDER BY due_at, id LIMIT ?`,
      ).all(now, limit) as StepRow[]
    ).map(toStep);
  }

  /** The earliest time anything is due: a step, or the end of a collect delay. */
  nextDueAt(): number | null {
    const r = this.sql(
      `SELECT MIN(t) AS t FROM (
           SELECT MIN(due_at) AS t FROM notify_steps WHERE state = 'scheduled' AND due_at IS NOT NULL
           UNION ALL SELECT MIN(collect_until) FROM notify_alerts WHERE state = 'collecting')`,
    ).get() as { t: number | null };
    return r.t;
  }

  /**
   * Claims a scheduled step: scheduled -> in-progress, attempts + 1, in one
   * statement, so two schedulers (or two nodes) never both perform it.
   */
  private claimStep(id: number, nodeId: string, now: number): boolean {
    // Durable before the step is performed: after a power loss it is known to have been started (at most once).
    return this.transaction(
      () =>
        this.sql(
          `UPDATE notify_steps SET state = 'in-progress', attempts = attempts + 1, node_id = ?, started_at = ?
           WHERE id = ? AND state = 'scheduled'`,
        ).run(nodeId, now, id).changes === 1,
    );
  }

  /** Ends an in-progress or scheduled step. */
  private finishStep(id: number, state: StepState, outcome: string, errorCode: string | null, now: number): boolean {
    return (
      this.sql(
        `UPDATE notify_steps SET state = ?, outcome = ?, error_code = ?, ended_at = ?
           WHERE id = ? AND state IN ('scheduled', 'in-progress')`,
      ).run(state, outcome, errorCode, now, id).changes === 1
    );
  }

  /** Puts an in-progress step back to scheduled for another attempt (the server said "try later"). */
  private rescheduleStep(id: number, dueAt: number, outcome: string, errorCode: string | null): void {
    this.sql(
      `UPDATE notify_steps SET state = 'scheduled', due_at = ?, outcome = ?, error_code = ?
         WHERE id = ? AND state = 'in-progress'`,
    ).run(dueAt, outcome, errorCode, id);
  }

  /** Makes the next scheduled step after `position` due. Returns false when there is none. */
  private scheduleNext(alertId: string, position: number, dueAt: number): boolean {
    return (
      this.sql(
        `UPDATE notify_steps SET due_at = ? WHERE id = (SELECT id FROM notify_steps
           WHERE alert_id = ? AND position > ? AND state = 'scheduled' ORDER BY position LIMIT 1)`,
      ).run(dueAt, alertId, position).changes === 1
    );
  }

  private cancelOpenSteps(alertId: string, outcome: string, now: number): number {
    return this.sql(
      `UPDATE notify_steps SET state = 'cancelled', outcome = ?, ended_at = ? WHERE alert_id = ? AND state = 'scheduled'`,
    ).run(outcome, now, alertId).changes;
  }

  /** Steps other nodes left in progress when they died (their lease lapsed): now this node's, to close. */
  adoptStepsOfLapsedNodes(nodeId: string, now: number): Step[] {
    const lapsed = () =>
      this.sql(
        `SELECT * FROM notify_steps WHERE state = 'in-progress' AND node_id <> ?
           AND node_id IN (SELECT node_id FROM node_leases WHERE lease_until < ?) ORDER BY id`,
      ).all(nodeId, now) as StepRow[];
    // Asked each scheduler round and nearly always none: a plain read first, so the round takes no write lock.
    if (lapsed().length === 0) return [];
    return this.db
      .transaction(() => {
        const rows = lapsed();
        const stamp = this.sql('UPDATE notify_steps SET node_id = ? WHERE id = ?');
        for (const r of rows) stamp.run(nodeId, r.id);
        return rows.map((r) => toStep({ ...r, node_id: nodeId }));
      })
      .immediate();
  }

  /** Steps this node left in progress when it stopped (crashed). */
  inProgressOf(nodeId: string): Step[] {
    return (
      this.sql(`SELECT * FROM notify_steps WHERE state = 'in-progress' AND node_id = ? ORDER BY id`).all(
        nodeId,
      ) as StepRow[]
    ).map(toStep);
  }

  /** Failed steps of an alert go back to scheduled (an administrator's retry); the first is due now. */
  private retryFailed(alertId: string, now: number): number {
    const failed = this.sql(
      `SELECT id FROM notify_steps WHERE alert_id = ? AND state IN ('failed', 'cancelled') ORDER BY position`,
    ).all(alertId) as { id: number }[];
    const upd = this.sql(
      `UPDATE notify_steps SET state = 'scheduled', due_at = ?, outcome = NULL, error_code = NULL,
       started_at = NULL, ended_at = NULL WHERE id = ?`,
    );
    failed.forEach((f, i) => {
      upd.run(i === 0 ? now : null, f.id);
    });
    return failed.length;
  }

  // ---- what the notifier does, each in one transaction ------------------------------------

  foldMessage(alert: NewAlert, m: UnreachableMessage, now: number): { alertId: string; folded: boolean } {
    return this.transaction(() => {
      const open = this.openAlertOf(alert.recipientId);
      if (!open) this.insertAlert(alert);
      const alertId = open?.id ?? alert.id;
      this.addMessage(alertId, m, now);
      return { alertId, folded: open !== null };
    });
  }

  openAlertWith(alert: NewAlert, m: UnreachableMessage, now: number): boolean {
    return this.transaction(() => {
      if (this.openAlertOf(alert.recipientId)) return false;
      this.insertAlert(alert);
      this.addMessage(alert.id, m, now);
      return true;
    });
  }

  startAlert(id: string, steps: PlannedStep[], now: number, emptyReason: string): boolean {
    return this.transaction(() => {
      if (!this.collectingToRunning(id)) return false;
      if (steps.length === 0) this.endAlert(id, 'done', emptyReason, now);
      else this.insertSteps(id, steps, now);
      return true;
    });
  }

  cancelAlert(id: string, reason: string, now: number): boolean {
    return this.transaction(() => {
      if (!this.endAlert(id, 'cancelled', reason, now)) return false;
      this.cancelOpenSteps(id, reason, now);
      return true;
    });
  }

  retryAlert(id: string, now: number): 'retried' | 'busy' | 'nothing' {
    return this.transaction(() => {
      const a = this.alert(id);
      if (!a) return 'nothing';
      const open = this.openAlertOf(a.recipientId);
      if (open) return open.id === id ? 'nothing' : 'busy';
      if (this.retryFailed(id, now) === 0) return 'nothing';
      this.reopenAlert(id);
      return 'retried';
    });
  }

  claimDueSteps(nodeId: string, now: number, limit: number): Step[] {
    if (limit <= 0) return [];
    // Durable before the steps are performed: after a power loss they are known to have been started (at most once).
    return this.transaction(() => {
      const out: Step[] = [];
      for (const s of this.dueSteps(now, limit))
        if (this.claimStep(s.id, nodeId, now)) out.push(this.step(s.id) as Step);
      return out;
    });
  }

  recordStepEnd(step: Pick<Step, 'id' | 'alertId' | 'position'>, end: StepEnd, now: number): StepAfter {
    return this.transaction((): StepAfter => {
      const alert = this.alert(step.alertId);
      const isOpen = alert?.state === 'running';
      if (end.retryAt !== undefined && isOpen) {
        this.rescheduleStep(step.id, end.retryAt, end.outcome, end.errorCode);
        return 'retry';
      }
      this.finishStep(step.id, end.state, end.outcome, end.errorCode, now);
      if (!isOpen) return 'closed';
      if (end.stop) {
        this.cancelOpenSteps(step.alertId, `call ${end.stop}`, now);
        this.endAlert(step.alertId, 'done', `call ${end.stop}`, now);
        return end.stop;
      }
      if (!this.scheduleNext(step.alertId, step.position, end.nextDueAt)) {
        if (this.anyDelivered(step.alertId)) this.endAlert(step.alertId, 'done', 'ladder finished', now);
        else this.endAlert(step.alertId, 'failed', 'ladder finished: no step reached the recipient', now);
        return 'finished';
      }
      return 'next';
    });
  }

  // ---- group commits: many calls, one transaction (one fsync) ------------------------------

  /**
   * Runs `fn` on every item in one transaction; when that fails, each item in
   * its own, so one bad item cannot sink the others (and none is written twice:
   * the failed batch was rolled back whole).
   */
  private each<T, R>(items: T[], fn: (item: T) => R): PromiseSettledResult<R>[] {
    try {
      return this.transaction(() => items.map((i): PromiseSettledResult<R> => ({ status: 'fulfilled', value: fn(i) })));
    } catch {
      return items.map((i): PromiseSettledResult<R> => {
        try {
          return { status: 'fulfilled', value: this.transaction(() => fn(i)) };
        } catch (reason) {
          return { status: 'rejected', reason };
        }
      });
    }
  }

  recordStepEnds(
    items: { step: Pick<Step, 'id' | 'alertId' | 'position'>; end: StepEnd; now: number }[],
  ): PromiseSettledResult<StepAfter>[] {
    return this.each(items, (i) => this.recordStepEnd(i.step, i.end, i.now));
  }

  foldMessages(
    items: { alert: NewAlert; message: UnreachableMessage; now: number }[],
  ): PromiseSettledResult<{ alertId: string; folded: boolean }>[] {
    return this.each(items, (i) => this.foldMessage(i.alert, i.message, i.now));
  }

  startAlerts(
    items: { id: string; steps: PlannedStep[]; emptyReason: string }[],
    now: number,
  ): PromiseSettledResult<boolean>[] {
    return this.each(items, (i) => this.startAlert(i.id, i.steps, now, i.emptyReason));
  }

  // ---- per-user ladders ------------------------------------------------------------

  ladderOf(userId: number): LadderOverride[] | null {
    const r = this.sql('SELECT steps FROM notify_ladders WHERE user_id = ?').get(userId) as
      | { steps: string }
      | undefined;
    return toLadder(r);
  }

  setLadder(userId: number, steps: LadderOverride[], now: number): void {
    this.sql(
      `INSERT INTO notify_ladders (user_id, steps, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET steps = excluded.steps, updated_at = excluded.updated_at`,
    ).run(userId, JSON.stringify(steps), now);
  }

  clearLadder(userId: number): boolean {
    return this.sql('DELETE FROM notify_ladders WHERE user_id = ?').run(userId).changes === 1;
  }
}
