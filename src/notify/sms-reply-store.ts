/**
 * What the SMS reply service needs from storage: reply codes, each bound to
 * one page (number, alert, user, session). Every method may be async.
 */
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

/** Storage of SMS reply codes (SQLite: src/store/sms-reply-repo.ts). */
export interface SmsReplyStore {
  /** Whether a code is live (unused, unexpired, alert not cancelled) for anyone: a new code must not clash. */
  isLive(code: string, now: number): Promise<boolean> | boolean;
  /** The code's reply admission for this alert and number already issued and still live, if any. */
  liveFor(alertId: string, phone: string, now: number): Promise<SmsReplyCode | null> | SmsReplyCode | null;
  insert(row: NewSmsReplyCode): Promise<SmsReplyCode> | SmsReplyCode;
  /** Every row with this code, newest first. */
  byCode(code: string): Promise<SmsReplyCode[]> | SmsReplyCode[];
  /** Marks a code used; false when it already was (another reply won the race). */
  markUsed(id: number, now: number): Promise<boolean> | boolean;
  /** Whether any code is still live (the receiver keeps its bind while there are). */
  anyLive(now: number): Promise<boolean> | boolean;
  /** Forgets codes that expired before `before`. */
  purge(before: number): Promise<number> | number;
}
