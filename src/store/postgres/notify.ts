/**
 * The notifier's storage (NotifyStore) on PostgreSQL: alerts, their
 * messages, ladder steps, per-user ladders.
 *
 * Several nodes share the ladders. Due steps are claimed with one
 * `WITH due AS (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED) UPDATE ... FROM due RETURNING`:
 * a step is handed to one node only, and nodes never wait for each other's
 * claims. Everything that reads an alert and then changes it (folding a
 * message in, recording a step's end, a retry) first locks the alert's row,
 * so it sees what a concurrent cancel did. The partial unique index on open
 * alerts keeps one open alert per recipient across nodes.
 */
import type { AlertFilter, NewAlert, NotifyStore, StepAfter, StepEnd } from '../../notify/ports.js';
import type {
  Alert,
  AlertMessage,
  AlertState,
  LadderOverride,
  PlannedStep,
  Step,
  UnreachableMessage,
} from '../../notify/types.js';
import { type Executor, isUniqueViolation, type PgDb } from './db.js';
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

const ALERT_COLS = 'id, recipient_id, state, reason, is_test, failed, created_at, collect_until, ended_at';
const A_ALERT_COLS = ALERT_COLS.split(', ')
  .map((c) => `a.${c}`)
  .join(', ');
/**
 * Runs a batch's items each in its own transaction, at once through the pool,
 * except that items with the same key (the same alert or recipient) run one
 * after another in the batch's order, so each sees what the one before did,
 * as it would alone and as SQLite's one-transaction batch does.
 */
function inTurnPer<I, R>(
  items: I[],
  keyOf: (i: I) => string,
  run: (i: I) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const last = new Map<string, Promise<unknown>>();
  return Promise.allSettled(
    items.map((i) => {
      const key = keyOf(i);
      const p = (last.get(key) ?? Promise.resolve()).then(
        () => run(i),
        () => run(i),
      );
      last.set(key, p);
      return p;
    }),
  );
}

const STEP_COLS =
  'id, alert_id, position, channel, device_id, protocol, address, wait_ms, state, attempts, due_at, node_id, started_at, ended_at, outcome, error_code';
const MESSAGE_COLS =
  'alert_id, message_id, session_id, from_user_id, from_name, from_spoken_name, text, audio_id, audio_url, at, added_at';
const OPEN = "state IN ('collecting', 'running')";

export class PgNotify implements NotifyStore {
  constructor(private readonly db: PgDb) {}

  // ---- alerts ------------------------------------------------------------------

  async openAlertOf(recipientId: number): Promise<Alert | null> {
    const r = await this.db.row<AlertRow>(
      `SELECT ${ALERT_COLS} FROM notify_alerts WHERE recipient_id = $1 AND ${OPEN}`,
      [recipientId],
    );
    return r ? toAlert(r) : null;
  }

  async alert(id: string): Promise<Alert | null> {
    const r = await this.db.row<AlertRow>(`SELECT ${ALERT_COLS} FROM notify_alerts WHERE id = $1`, [id]);
    return r ? toAlert(r) : null;
  }

  /** The recipient's open alert, locked until the transaction ends; or `alert` opened; or null (`insert` false). */
  private async lockOrOpen(
    c: Executor,
    alert: NewAlert,
    insert: boolean,
  ): Promise<{ id: string; isNew: boolean } | null> {
    // A concurrent opener may win between the look and the insert: look again (it has committed by then).
    for (let i = 0; i < 3; i++) {
      const open = await this.db.row<{ id: string }>(
        `SELECT id FROM notify_alerts WHERE recipient_id = $1 AND ${OPEN} FOR UPDATE`,
        [alert.recipientId],
        c,
      );
      if (open) return { id: open.id, isNew: false };
      if (!insert) return null;
      const made = await this.db.row<{ id: string }>(
        `INSERT INTO notify_alerts (id, recipient_id, state, is_test, created_at, collect_until)
         VALUES ($1, $2, 'collecting', $3, $4, $5)
         ON CONFLICT (recipient_id) WHERE ${OPEN} DO NOTHING RETURNING id`,
        [alert.id, alert.recipientId, alert.isTest, alert.createdAt, alert.collectUntil],
        c,
      );
      if (made) return { id: made.id, isNew: true };
    }
    throw new Error(`no open alert could be found or opened for recipient ${alert.recipientId}`);
  }

  private async addMessage(c: Executor, alertId: string, m: UnreachableMessage, addedAt: number): Promise<void> {
    await c.query(
      `INSERT INTO notify_alert_messages (${MESSAGE_INSERT_COLS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
      messageParams(alertId, m, addedAt),
    );
  }

  foldMessage(alert: NewAlert, m: UnreachableMessage, now: number): Promise<{ alertId: string; folded: boolean }> {
    return this.db.tx(async (c) => {
      const a = (await this.lockOrOpen(c, alert, true)) as { id: string; isNew: boolean };
      await this.addMessage(c, a.id, m, now);
      return { alertId: a.id, folded: !a.isNew };
    });
  }

  openAlertWith(alert: NewAlert, m: UnreachableMessage, now: number): Promise<boolean> {
    return this.db.tx(async (c) => {
      if (await this.lockOrOpen(c, alert, false)) return false;
      const a = (await this.lockOrOpen(c, alert, true)) as { id: string; isNew: boolean };
      if (!a.isNew) return false;
      await this.addMessage(c, a.id, m, now);
      return true;
    });
  }

  async listAlerts(f: AlertFilter = {}): Promise<Alert[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.state === 'failed') where.push(`state = 'done' AND failed`);
    else if (f.state) {
      args.push(f.state);
      where.push(f.state === 'done' ? `state = $${args.length} AND NOT failed` : `state = $${args.length}`);
    }
    if (f.recipientId !== undefined) {
      args.push(f.recipientId);
      where.push(`recipient_id = $${args.length}`);
    }
    args.push(f.limit ?? 100);
    const sql = `SELECT ${ALERT_COLS} FROM notify_alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, seq DESC LIMIT $${args.length}`;
    return (await this.db.rows<AlertRow>(sql, args)).map(toAlert);
  }

  async collectedAlerts(now: number, limit: number): Promise<Alert[]> {
    return (
      await this.db.rows<AlertRow>(
        `SELECT ${ALERT_COLS} FROM notify_alerts WHERE state = 'collecting' AND collect_until <= $1
         ORDER BY collect_until, seq LIMIT $2`,
        [now, limit],
      )
    ).map(toAlert);
  }

  private async endAlert(
    c: Executor,
    id: string,
    state: 'done' | 'cancelled' | 'failed',
    reason: string,
    at: number,
  ): Promise<boolean> {
    return (
      (await this.db.count(
        `UPDATE notify_alerts SET state = $1, failed = $2, reason = $3, ended_at = $4 WHERE id = $5 AND ${OPEN}`,
        [state === 'failed' ? 'done' : state, state === 'failed', reason, at, id],
        c,
      )) === 1
    );
  }

  private async cancelOpenSteps(c: Executor, alertId: string, outcome: string, now: number): Promise<void> {
    await c.query(
      `UPDATE notify_steps SET state = 'cancelled', outcome = $1, ended_at = $2 WHERE alert_id = $3 AND state = 'scheduled'`,
      [outcome, now, alertId],
    );
  }

  startAlert(id: string, steps: PlannedStep[], now: number, emptyReason: string): Promise<boolean> {
    return this.db.tx(async (c) => {
      const started = await this.db.count(
        `UPDATE notify_alerts SET state = 'running' WHERE id = $1 AND state = 'collecting'`,
        [id],
        c,
      );
      if (started !== 1) return false;
      if (steps.length === 0) await this.endAlert(c, id, 'done', emptyReason, now);
      else
        await c.query(
          `INSERT INTO notify_steps (alert_id, position, channel, device_id, protocol, address, wait_ms, state, due_at)
           SELECT $1, o, ch, d, p, a, w, 'scheduled', CASE WHEN o = 1 THEN $2::bigint END
           FROM unnest($3::text[], $4::int[], $5::text[], $6::text[], $7::bigint[]) WITH ORDINALITY AS x(ch, d, p, a, w, o)`,
          [
            id,
            now,
            steps.map((s) => s.channel),
            steps.map((s) => s.deviceId),
            steps.map((s) => s.protocol),
            steps.map((s) => s.address),
            steps.map((s) => s.waitMs),
          ],
        );
      return true;
    });
  }

  cancelAlert(id: string, reason: string, now: number): Promise<boolean> {
    return this.db.tx(async (c) => {
      if (!(await this.endAlert(c, id, 'cancelled', reason, now))) return false;
      await this.cancelOpenSteps(c, id, reason, now);
      return true;
    });
  }

  async retryAlert(id: string, now: number): Promise<'retried' | 'busy' | 'nothing'> {
    try {
      return await this.db.tx(async (c) => {
        const a = await this.db.row<{ recipient_id: number }>(
          'SELECT recipient_id FROM notify_alerts WHERE id = $1 FOR UPDATE',
          [id],
          c,
        );
        if (!a) return 'nothing';
        const open = await this.db.row<{ id: string }>(
          `SELECT id FROM notify_alerts WHERE recipient_id = $1 AND ${OPEN}`,
          [a.recipient_id],
          c,
        );
        if (open) return open.id === id ? 'nothing' : 'busy';
        const again = await this.db.count(
          `UPDATE notify_steps s SET state = 'scheduled', due_at = CASE WHEN f.o = 1 THEN $2::bigint END,
             outcome = NULL, error_code = NULL, started_at = NULL, ended_at = NULL
           FROM (SELECT id, row_number() OVER (ORDER BY position) AS o FROM notify_steps
                 WHERE alert_id = $1 AND state IN ('failed', 'cancelled')) AS f
           WHERE s.id = f.id`,
          [id, now],
          c,
        );
        if (again === 0) return 'nothing';
        await c.query(
          `UPDATE notify_alerts SET state = 'running', failed = FALSE, reason = NULL, ended_at = NULL WHERE id = $1`,
          [id],
        );
        return 'retried';
      });
    } catch (e) {
      // Another node opened an alert for the recipient meanwhile: one open alert each.
      if (isUniqueViolation(e, 'notify_alerts')) return 'busy';
      throw e;
    }
  }

  async hasAlerted(recipientId: number, messageId: string): Promise<boolean> {
    return (
      (await this.db.row(
        `SELECT 1 FROM notify_alert_messages m JOIN notify_alerts a ON a.id = m.alert_id
         WHERE a.recipient_id = $1 AND m.message_id = $2 LIMIT 1`,
        [recipientId, messageId],
      )) !== null
    );
  }

  // ---- messages ----------------------------------------------------------------

  async messages(alertId: string): Promise<AlertMessage[]> {
    return (
      await this.db.rows<MessageRow>(
        `SELECT ${MESSAGE_COLS} FROM notify_alert_messages WHERE alert_id = $1 ORDER BY at, seq`,
        [alertId],
      )
    ).map(toMessage);
  }

  async alertsOfMessage(messageId: string): Promise<Alert[]> {
    return (
      await this.db.rows<AlertRow>(
        `SELECT ${A_ALERT_COLS} FROM notify_alerts a JOIN notify_alert_messages m ON m.alert_id = a.id
         WHERE m.message_id = $1 ORDER BY a.created_at DESC, a.seq DESC`,
        [messageId],
      )
    ).map(toAlert);
  }

  // ---- steps ---------------------------------------------------------------------

  async steps(alertId: string): Promise<Step[]> {
    return (
      await this.db.rows<StepRow>(`SELECT ${STEP_COLS} FROM notify_steps WHERE alert_id = $1 ORDER BY position`, [
        alertId,
      ])
    ).map(toStep);
  }

  async step(id: number): Promise<Step | null> {
    const r = await this.db.row<StepRow>(`SELECT ${STEP_COLS} FROM notify_steps WHERE id = $1`, [id]);
    return r ? toStep(r) : null;
  }

  async claimDueSteps(nodeId: string, now: number, limit: number): Promise<Step[]> {
    if (limit <= 0) return [];
    const rows = await this.db.rows<StepRow>(
      // The rows are picked and locked once, in a CTE: as `id IN (SELECT ... LIMIT n FOR
      // UPDATE SKIP LOCKED)` the subquery can run again while other nodes claim, and one
      // node then took far more than its limit.
      `WITH due AS (
         SELECT id AS due_id FROM notify_steps WHERE state = 'scheduled' AND due_at IS NOT NULL AND due_at <= $2
         ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
       UPDATE notify_steps SET state = 'in-progress', attempts = attempts + 1, node_id = $1, started_at = $2
       FROM due WHERE id = due.due_id AND state = 'scheduled'
       RETURNING ${STEP_COLS}`,
      [nodeId, now, limit],
    );
    return rows.map(toStep).sort((a, b) => (a.dueAt as number) - (b.dueAt as number) || a.id - b.id);
  }

  async nextDueAt(): Promise<number | null> {
    const r = await this.db.row<{ t: number | null }>(
      `SELECT LEAST(
         (SELECT MIN(due_at) FROM notify_steps WHERE state = 'scheduled' AND due_at IS NOT NULL),
         (SELECT MIN(collect_until) FROM notify_alerts WHERE state = 'collecting')) AS t`,
    );
    return r?.t ?? null;
  }

  recordStepEnd(step: Pick<Step, 'id' | 'alertId' | 'position'>, end: StepEnd, now: number): Promise<StepAfter> {
    return this.db.tx(async (c): Promise<StepAfter> => {
      const alert = await this.db.row<{ state: AlertState }>(
        'SELECT state FROM notify_alerts WHERE id = $1 FOR UPDATE',
        [step.alertId],
        c,
      );
      const isOpen = alert?.state === 'running';
      if (end.retryAt !== undefined && isOpen) {
        await c.query(
          `UPDATE notify_steps SET state = 'scheduled', due_at = $1, outcome = $2, error_code = $3
           WHERE id = $4 AND state = 'in-progress'`,
          [end.retryAt, end.outcome, end.errorCode, step.id],
        );
        return 'retry';
      }
      await c.query(
        `UPDATE notify_steps SET state = $1, outcome = $2, error_code = $3, ended_at = $4
         WHERE id = $5 AND state IN ('scheduled', 'in-progress')`,
        [end.state, end.outcome, end.errorCode, now, step.id],
      );
      if (!isOpen) return 'closed';
      if (end.stop) {
        await this.cancelOpenSteps(c, step.alertId, `call ${end.stop}`, now);
        await this.endAlert(c, step.alertId, 'done', `call ${end.stop}`, now);
        return end.stop;
      }
      const next = await this.db.count(
        `UPDATE notify_steps SET due_at = $1 WHERE id = (SELECT id FROM notify_steps
         WHERE alert_id = $2 AND position > $3 AND state = 'scheduled' ORDER BY position LIMIT 1)`,
        [end.nextDueAt, step.alertId, step.position],
        c,
      );
      if (next === 1) return 'next';
      const delivered = await this.db.row(
        `SELECT 1 FROM notify_steps WHERE alert_id = $1 AND state = 'delivered' LIMIT 1`,
        [step.alertId],
        c,
      );
      if (delivered) await this.endAlert(c, step.alertId, 'done', 'ladder finished', now);
      else await this.endAlert(c, step.alertId, 'failed', 'ladder finished: no step reached the recipient', now);
      return 'finished';
    });
  }

  // Group commits: each item in its own transaction, all at once through the pool (PostgreSQL
  // commits them together); one transaction for all would lock many alerts in one go.
  recordStepEnds(
    items: { step: Pick<Step, 'id' | 'alertId' | 'position'>; end: StepEnd; now: number }[],
  ): Promise<PromiseSettledResult<StepAfter>[]> {
    return inTurnPer(
      items,
      (i) => i.step.alertId,
      (i) => this.recordStepEnd(i.step, i.end, i.now),
    );
  }

  foldMessages(
    items: { alert: NewAlert; message: UnreachableMessage; now: number }[],
  ): Promise<PromiseSettledResult<{ alertId: string; folded: boolean }>[]> {
    return inTurnPer(
      items,
      (i) => String(i.alert.recipientId),
      (i) => this.foldMessage(i.alert, i.message, i.now),
    );
  }

  startAlerts(
    items: { id: string; steps: PlannedStep[]; emptyReason: string }[],
    now: number,
  ): Promise<PromiseSettledResult<boolean>[]> {
    return inTurnPer(
      items,
      (i) => i.id,
      (i) => this.startAlert(i.id, i.steps, now, i.emptyReason),
    );
  }

  async adoptStepsOfLapsedNodes(nodeId: string, now: number): Promise<Step[]> {
    // The row lock makes the adoption exclusive: a second node's UPDATE re-checks node_id after the first commits.
    return (
      await this.db.rows<StepRow>(
        `UPDATE notify_steps SET node_id = $1
         WHERE state = 'in-progress' AND node_id <> $1
           AND node_id IN (SELECT node_id FROM node_leases WHERE lease_until < $2)
         RETURNING ${STEP_COLS}`,
        [nodeId, now],
      )
    )
      .map(toStep)
      .sort((a, b) => a.id - b.id);
  }

  async inProgressOf(nodeId: string): Promise<Step[]> {
    return (
      await this.db.rows<StepRow>(
        `SELECT ${STEP_COLS} FROM notify_steps WHERE state = 'in-progress' AND node_id = $1 ORDER BY id`,
        [nodeId],
      )
    ).map(toStep);
  }

  // ---- per-user ladders ------------------------------------------------------------

  async ladderOf(userId: number): Promise<LadderOverride[] | null> {
    const r = await this.db.row<{ steps: string }>('SELECT steps FROM notify_ladders WHERE user_id = $1', [userId]);
    return toLadder(r);
  }

  async setLadder(userId: number, steps: LadderOverride[], now: number): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO notify_ladders (user_id, steps, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET steps = excluded.steps, updated_at = excluded.updated_at`,
      [userId, JSON.stringify(steps), now],
    );
  }

  async clearLadder(userId: number): Promise<boolean> {
    return (await this.db.count('DELETE FROM notify_ladders WHERE user_id = $1', [userId])) === 1;
  }
}
