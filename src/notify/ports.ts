/** The ports the notifier needs from other parts and from the store; the composition root passes real ones. */
import type {
  Alert,
  AlertMessage,
  AlertState,
  LadderOverride,
  PlannedStep,
  Step,
  UnreachableMessage,
} from './types.js';

/** A voice message's audio as an MP3 for an email attachment. The audio file server implements it. */
export interface AudioAttachmentPort {
  /** Throws (any error) when the audio is gone or cannot be transcoded; the email then goes without it. */
  mp3For(audioId: string): Promise<{ filename: string; content: Buffer; durationMs: number }>;
  /** A URL of the audio signed now (stored URLs expire); optional: the stored URL is used otherwise. */
  signedUrl?(audioId: string, format: 'wav'): string;
}

/** Tells a sender something about their message (the recipient declined the call). Presence implements it. */
export interface SenderNoticePort {
  tellSender(notice: {
    senderUserId: number;
    sessionId: string;
    recipientId: number;
    /** A short system message, e.g. "Bob declined your call-back request." */
    text: string;
  }): Promise<void>;
}

/** The result of one delivery attempt by a channel (email, pager). */
export type DeliveryResult =
  | { status: 'delivered'; detail: string }
  /** Try again later (server unreachable, 4xx, timeout). */
  | { status: 'retry'; code: string; detail: string }
  /** Refused for good (5xx, bad address). */
  | { status: 'failed'; code: string; detail: string };

/** Whether a phone of the device registry is in a call now (its Asterisk device, heard over AMI). Presence implements it. */
export interface LineStatePort {
  /** The Asterisk device the phone is busy on, or undefined when it is free or not followed. */
  busyOn(phone: { userId: number; asteriskDevice: string | null }): Promise<string | undefined>;
}

// ---- storage ------------------------------------------------------------------------------

/** Filters of the administrator's alert list (newest first, default limit 100). */
export interface AlertFilter {
  state?: AlertState | undefined;
  recipientId?: number | undefined;
  limit?: number | undefined;
}

/** A new alert, opened in state collecting. */
export interface NewAlert {
  id: string;
  recipientId: number;
  isTest: boolean;
  createdAt: number;
  /** When its collect delay ends (the ladder starts). */
  collectUntil: number;
}

/** How a performed step ended, as the notifier records it. */
export interface StepEnd {
  state: 'delivered' | 'failed' | 'skipped';
  outcome: string;
  errorCode: string | null;
  /** The call was answered (accepted or declined): the alert ends and its other steps are cancelled. */
  stop?: 'accepted' | 'declined' | undefined;
  /**
   * Try the step again at this time instead of ending it (the server said
   * "try later" and attempts are left); honoured only while the alert runs.
   */
  retryAt?: number | undefined;
  /** When the next step becomes due if the ladder goes on. */
  nextDueAt: number;
}

/**
 * What recording a step's end did to its alert: `retry` (the step is
 * scheduled again), `closed` (the alert had already ended), `accepted` /
 * `declined` (the call ended the alert), `finished` (no step was left: the
 * alert ended done, or failed when no step was delivered), `next` (the next
 * step is due).
 */
export type StepAfter = 'retry' | 'closed' | 'accepted' | 'declined' | 'finished' | 'next';

/**
 * The notifier's storage port: alerts, the messages folded into them, the
 * steps of their ladders, and users' own ladders. Each method is atomic.
 * Several notifiers (nodes) may share one store: `claimDueSteps` hands each
 * due step to exactly one of them, and the conditional moves (start,
 * end, cancel) succeed for one caller only.
 */
export interface NotifyStore {
  // ---- alerts -------------------------------------------------------------------

  /** The recipient's open (collecting or running) alert; there is at most one. */
  openAlertOf(recipientId: number): Promise<Alert | null>;
  alert(id: string): Promise<Alert | null>;
  /**
   * Folds a message into the recipient's open alert, or opens `alert` with it
   * when none is open (at most one open alert per recipient, even with
   * several nodes). A message already in the alert is not added twice.
   */
  foldMessage(alert: NewAlert, message: UnreachableMessage, now: number): Promise<{ alertId: string; folded: boolean }>;
  /** Opens `alert` (a test) with its message unless the recipient has an open alert; false then. */
  openAlertWith(alert: NewAlert, message: UnreachableMessage, now: number): Promise<boolean>;
  listAlerts(filter?: AlertFilter): Promise<Alert[]>;
  /** Alerts whose collect delay ended at or before `now`, oldest first. */
  collectedAlerts(now: number, limit: number): Promise<Alert[]>;
  /**
   * Starts a collected alert's ladder: collecting -> running with `steps`
   * (the first due at `now`), or, with no steps, ends it done with
   * `emptyReason`. False when the alert was no longer collecting (another
   * node or a cancel got there first).
   */
  startAlert(id: string, steps: PlannedStep[], now: number, emptyReason: string): Promise<boolean>;
  /** Ends an open alert as cancelled and cancels its scheduled steps; false when it had already ended. */
  cancelAlert(id: string, reason: string, now: number): Promise<boolean>;
  /**
   * Reopens an ended alert: its failed and cancelled steps are scheduled
   * again, the first due at `now`. `busy`: the recipient has another open
   * alert; `nothing`: no failed or cancelled step.
   */
  retryAlert(id: string, now: number): Promise<'retried' | 'busy' | 'nothing'>;
  /** Whether a message to this recipient has ever been in an alert (a restart must not alert it twice). */
  hasAlerted(recipientId: number, messageId: string): Promise<boolean>;

  // ---- messages ----------------------------------------------------------------

  /** An alert's messages, oldest first. */
  messages(alertId: string): Promise<AlertMessage[]>;
  /** Every alert that carried a message, newest first. */
  alertsOfMessage(messageId: string): Promise<Alert[]>;

  // ---- steps -----------------------------------------------------------------------

  /** An alert's steps in ladder order. */
  steps(alertId: string): Promise<Step[]>;
  step(id: number): Promise<Step | null>;
  /**
   * Claims up to `limit` scheduled steps due at or before `now` for
   * `nodeId`, earliest first: each moves to in-progress with its attempt
   * counted, and is returned as it now stands. A step is returned to one
   * caller only, however many nodes claim at once (on PostgreSQL one
   * `FOR UPDATE SKIP LOCKED` statement). Durable before it resolves: a step
   * claimed is known to have been started, even after a power loss.
   */
  claimDueSteps(nodeId: string, now: number, limit: number): Promise<Step[]>;
  /** The earliest time anything is due: a scheduled step, or the end of a collect delay; null when nothing. */
  nextDueAt(): Promise<number | null>;
  /**
   * Records how an in-progress step ended and moves its ladder on, atomically
   * (see StepEnd and StepAfter). Durable before it resolves.
   */
  recordStepEnd(step: Pick<Step, 'id' | 'alertId' | 'position'>, end: StepEnd, now: number): Promise<StepAfter>;
  /**
   * Several calls of recordStepEnd, foldMessage or startAlert at once (the
   * notifier's group commit): one result per item, in order, each as that
   * call alone would have given it, or the reason it failed. An item's
   * failure never undoes or repeats another's; the adapter may write the
   * batch in one transaction (one fsync on SQLite) or each item in its own.
   * Durable before it resolves, like the calls it stands for.
   */
  recordStepEnds(
    items: { step: Pick<Step, 'id' | 'alertId' | 'position'>; end: StepEnd; now: number }[],
  ): Promise<PromiseSettledResult<StepAfter>[]>;
  foldMessages(
    items: { alert: NewAlert; message: UnreachableMessage; now: number }[],
  ): Promise<PromiseSettledResult<{ alertId: string; folded: boolean }>[]>;
  startAlerts(
    items: { id: string; steps: PlannedStep[]; emptyReason: string }[],
    now: number,
  ): Promise<PromiseSettledResult<boolean>[]>;
  /** Steps a node left in progress (it stopped while performing them), by id. */
  inProgressOf(nodeId: string): Promise<Step[]>;
  /**
   * Steps left in progress by other nodes whose lease (node_leases) lapsed
   * before `now`: nodes that died in the middle of a step. Each such step is
   * re-stamped with `nodeId` and returned to exactly one caller, which closes
   * it as interrupted (never performing it again) so that its ladder goes on.
   */
  adoptStepsOfLapsedNodes(nodeId: string, now: number): Promise<Step[]>;
  /** Optional: readies what the first durable write needs (SQLite's writer thread), so it does not wait for it. */
  warm?(): void;

  // ---- per-user ladders ----------------------------------------------------------------

  /** A user's own ladder, or null when the default (from the device registry) applies. */
  ladderOf(userId: number): Promise<LadderOverride[] | null>;
  setLadder(userId: number, steps: LadderOverride[], now: number): Promise<void>;
  /** Goes back to the default ladder; false when the user had none of their own. */
  clearLadder(userId: number): Promise<boolean>;
}

/** The record of reply links already used: each link logs in once. */
export interface ReplyLinkUses {
  /**
   * Records the nonce's use, atomically; false when it was used before.
   * Forgets nonces whose links expired before `now`.
   */
  claim(nonce: string, now: number, expiresAt: number): Promise<boolean>;
}

// ---- SMS replies ------------------------------------------------------------------------------

/** A reply code printed in a page sent over SMPP, bound to that page (number, alert, user, session). */
export interface SmsReplyCode {
  id: number;
  code: string;
  /** E.164 with '+': the number the page went to. */
  phone: string;
  alertId: string;
  userId: number;
  sessionId: string;
  senderName: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  /** Whether the code's alert was cancelled (the recipient showed up, answered, or an admin stopped it). */
  alertCancelled: boolean;
}

export type NewSmsReplyCode = Omit<SmsReplyCode, 'id' | 'usedAt' | 'alertCancelled'>;

/**
 * What the SMS reply service needs from storage: reply codes, each bound to
 * one page. A code is live while it is unused, unexpired, and its alert is
 * not cancelled.
 */
export interface SmsReplyStore {
  /** Whether a code is live for anyone: a new code must not clash. */
  isLive(code: string, now: number): Promise<boolean>;
  /** The code's reply admission for this alert and number already issued and still live, if any. */
  liveFor(alertId: string, phone: string, now: number): Promise<SmsReplyCode | null>;
  insert(row: NewSmsReplyCode): Promise<SmsReplyCode>;
  /** Every row with this code, newest first (at most 20). */
  byCode(code: string): Promise<SmsReplyCode[]>;
  /** Marks a code used, atomically; false when it already was (another reply won the race, on any node). */
  markUsed(id: number, now: number): Promise<boolean>;
  /** Whether any code is still live (the receiver keeps its bind while there are). */
  anyLive(now: number): Promise<boolean>;
  /** Forgets codes that expired before `before`; how many. */
  purge(before: number): Promise<number>;
}
