/** The notifier's words: an alert, the messages folded into it, and the steps of its ladder. */

/** A message that found no link of its recipient (what presence hands the notifier). */
export interface UnreachableMessage {
  id: string;
  sessionId: string;
  fromUserId: number;
  /** As shown in text ("Alice Jones"). */
  fromName: string;
  /** As the speech engine says it. */
  fromSpokenName: string;
  text: string;
  /** A voice message's audio in the audio file server. */
  audioId?: string | undefined;
  /** A URL Asterisk can play the voice message from. */
  audioUrl?: string | undefined;
  /** When it was sent (ms since the epoch). */
  at: number;
}

/** `failed`: the ladder ended and no step was delivered (stored as done, flagged failed). */
export type AlertState = 'collecting' | 'running' | 'done' | 'cancelled' | 'failed';
export type StepState = 'scheduled' | 'in-progress' | 'delivered' | 'failed' | 'cancelled' | 'skipped';
export type StepChannel = 'call' | 'page' | 'email';

export interface Alert {
  id: string;
  recipientId: number;
  state: AlertState;
  reason: string | null;
  isTest: boolean;
  createdAt: number;
  collectUntil: number;
  endedAt: number | null;
}

export interface AlertMessage extends UnreachableMessage {
  alertId: string;
  addedAt: number;
}

export interface Step {
  id: number;
  alertId: string;
  position: number;
  channel: StepChannel;
  deviceId: number | null;
  /** Pagers: snpp, smpp or email. */
  protocol: string | null;
  address: string;
  /** Wait after this step ends before the next one. */
  waitMs: number;
  state: StepState;
  attempts: number;
  dueAt: number | null;
  nodeId: string | null;
  startedAt: number | null;
  endedAt: number | null;
  outcome: string | null;
  errorCode: string | null;
}

/** A planned step, before it is a row. */
export interface PlannedStep {
  channel: StepChannel;
  deviceId: number;
  protocol: string | null;
  address: string;
  waitMs: number;
  /** 'HH:MM' quiet hours of the device, or null. */
  quietStart: string | null;
  quietEnd: string | null;
}

/** A user's own ladder: device ids in order, each with its wait (seconds) or the default for its kind. */
export interface LadderOverride {
  deviceId: number;
  waitSeconds?: number | undefined;
}
