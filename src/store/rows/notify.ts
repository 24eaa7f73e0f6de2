/**
 * The notifier's tables' rows as both backends read them, and their mapping
 * to the notifier's types: one shape, whatever the SQL dialect. Flags are
 * 0/1 integers on SQLite and booleans on PostgreSQL; a ladder is stored as
 * JSON text on both.
 */
import type {
  Alert,
  AlertMessage,
  AlertState,
  LadderOverride,
  Step,
  StepState,
  UnreachableMessage,
} from '../../notify/types.js';

export interface AlertRow {
  id: string;
  recipient_id: number;
  state: AlertState;
  reason: string | null;
  is_test: number | boolean;
  failed: number | boolean;
  created_at: number;
  collect_until: number;
  ended_at: number | null;
}

export interface MessageRow {
  alert_id: string;
  message_id: string;
  session_id: string;
  from_user_id: number;
  from_name: string;
  from_spoken_name: string;
  text: string;
  audio_id: string | null;
  audio_url: string | null;
  at: number;
  added_at: number;
}

export interface StepRow {
  id: number;
  alert_id: string;
  position: number;
  channel: Step['channel'];
  device_id: number | null;
  protocol: string | null;
  address: string;
  wait_ms: number;
  state: StepState;
  attempts: number;
  due_at: number | null;
  node_id: string | null;
  started_at: number | null;
  ended_at: number | null;
  outcome: string | null;
  error_code: string | null;
}

/** A failed alert is stored as done with the failed flag set (migration 048). */
export const toAlert = (r: AlertRow): Alert => ({
  id: r.id,
  recipientId: r.recipient_id,
  state: r.state === 'done' && r.failed ? 'failed' : r.state,
  reason: r.reason,
  isTest: Boolean(r.is_test),
  createdAt: r.created_at,
  collectUntil: r.collect_until,
  endedAt: r.ended_at,
});

export const toMessage = (r: MessageRow): AlertMessage => ({
  alertId: r.alert_id,
  id: r.message_id,
  sessionId: r.session_id,
  fromUserId: r.from_user_id,
  fromName: r.from_name,
  fromSpokenName: r.from_spoken_name,
  text: r.text,
  audioId: r.audio_id ?? undefined,
  audioUrl: r.audio_url ?? undefined,
  at: r.at,
  addedAt: r.added_at,
});

/** The columns of an alert's message row, in the order messageParams gives their values. */
export const MESSAGE_INSERT_COLS =
  'alert_id, message_id, session_id, from_user_id, from_name, from_spoken_name, text, audio_id, audio_url, at, added_at';

/** The values of a message row for MESSAGE_INSERT_COLS. */
export const messageParams = (alertId: string, m: UnreachableMessage, addedAt: number): unknown[] => [
  alertId,
  m.id,
  m.sessionId,
  m.fromUserId,
  m.fromName,
  m.fromSpokenName,
  m.text,
  m.audioId ?? null,
  m.audioUrl ?? null,
  m.at,
  addedAt,
];

export const toStep = (r: StepRow): Step => ({
  id: r.id,
  alertId: r.alert_id,
  position: r.position,
  channel: r.channel,
  deviceId: r.device_id,
  protocol: r.protocol,
  address: r.address,
  waitMs: r.wait_ms,
  state: r.state,
  attempts: r.attempts,
  dueAt: r.due_at,
  nodeId: r.node_id,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  outcome: r.outcome,
  errorCode: r.error_code,
});

/** A user's ladder as stored (JSON text), or null when none is. */
export const toLadder = (r: { steps: string } | null | undefined): LadderOverride[] | null =>
  r ? (JSON.parse(r.steps) as LadderOverride[]) : null;
