/**
 * The reverse log-on: the notifier asks the IVR to call a user back about a
 * waiting message ("Alice wants to chat with you. Press 1 to accept, 2 to
 * decline, 3 to hear it again"). The IVR implements this port in src/ivr;
 * the notifier only sees the outcome, which decides the ladder's next step.
 */
export interface ReverseLogonRequest {
  /** The alert this call belongs to (for logs and idempotency). */
  alertId: string;
  /** The callee. */
  userId: number;
  /** E.164 number of the phone device to ring. */
  phoneNumber: string;
  /** Who wants to chat, as the speech engine should say it. */
  senderSpokenName: string;
  senderUserId: number;
  /** The IM session the waiting message belongs to. */
  sessionId: string;
  /** The waiting messages, oldest first: what the callee hears. */
  messages: { id: string; text: string; audioUrl?: string }[];
  /** Ring this long before giving up. */
  ringSeconds: number;
  /** When true and a machine answers, leave the message after the beep. */
  leaveVoicemail: boolean;
  /** A test alert (`phonectl alert test`): there is no session to join; 1 or 2 only ends the call, saying so. */
  isTest?: boolean;
}

export type ReverseLogonOutcome =
  /** Pressed 1: the callee is now a phone link of the session, in live chat. */
  | { status: 'accepted' }
  /** Pressed 2: the sender is told. */
  | { status: 'declined' }
  /** Answered but no key (after the retries), or hung up before choosing. */
  | { status: 'no-response' }
  | { status: 'no-answer' }
  | { status: 'busy' }
  /** An answering machine: a long greeting and no key. */
  | { status: 'machine'; leftVoicemail: boolean }
  | { status: 'failed'; reason: string };

export interface ReverseLogonPort {
  call(request: ReverseLogonRequest, signal?: AbortSignal): Promise<ReverseLogonOutcome>;
}
