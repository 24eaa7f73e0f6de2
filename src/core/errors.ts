/**
 * The one registry of coded errors. A code names one failure for ever: it is
 * never reused or renamed. Expected failures travel as values (Result);
 * misuse and faults throw AppError. Each capability keeps its codes in its own
 * block below, so they read as the reference page of the platform's errors.
 */
export interface ErrorSpec {
  readonly status: number;
  readonly doc: string;
}

export const ERRORS = {
  // core
  CORE_CONFIG_INVALID: { status: 500, doc: 'The configuration is invalid; the message names the key.' },
  CORE_INTERNAL: { status: 500, doc: 'An unexpected internal error.' },
  // store
  STORE_MIGRATION_FAILED: { status: 500, doc: 'A schema migration failed and was rolled back.' },
  STORE_SCHEMA_TOO_NEW: { status: 500, doc: 'The database was written by a newer version of the platform.' },
  // accounts
  ACCOUNTS_INVALID_INPUT: { status: 400, doc: 'A name, number, PIN, password or address is malformed.' },
  ACCOUNTS_USER_NOT_FOUND: { status: 404, doc: 'No such user.' },
  ACCOUNTS_USER_EXISTS: { status: 409, doc: 'A user with that username already exists.' },
  ACCOUNTS_CALLER_ID_TAKEN: { status: 409, doc: 'That caller-ID number is already bound to another user.' },
  ACCOUNTS_PIN_WEAK: { status: 400, doc: 'The PIN is too short, too long, or trivial (1111, 1234).' },
  ACCOUNTS_PASSWORD_WEAK: { status: 400, doc: 'The password is too short.' },
  ACCOUNTS_BAD_CREDENTIALS: { status: 401, doc: 'Wrong PIN or password, or an unknown caller.' },
  ACCOUNTS_LOCKED: { status: 423, doc: 'Too many failed tries; the account is locked for a while.' },
  ACCOUNTS_DEVICE_NOT_FOUND: { status: 404, doc: "No such device in the user's device registry." },
  // web
  WEB_NOT_FOUND: { status: 404, doc: 'No such resource.' },
  WEB_BAD_REQUEST: { status: 400, doc: 'The request is malformed.' },
  WEB_PAYLOAD_TOO_LARGE: { status: 413, doc: 'The request body is over the size limit.' },
  WEB_METHOD_NOT_ALLOWED: { status: 405, doc: 'The resource does not accept that method.' },
  WEB_UNAUTHORIZED: { status: 401, doc: 'Log in first: no session token, or an expired or unknown one.' },
  WEB_CSRF_FAILED: { status: 403, doc: 'The form carried no valid CSRF token; reload the page and try again.' },
  // telephony
  // sim
  // audio
  // presence
  PRESENCE_INVALID_INPUT: { status: 400, doc: 'A presence state, status text, message or id is malformed.' },
  PRESENCE_USER_NOT_FOUND: { status: 404, doc: 'No such user to add, invite or subscribe to.' },
  PRESENCE_NOT_CONTACT: { status: 403, doc: 'Only approved contacts can be invited to a session.' },
  PRESENCE_REQUEST_NOT_FOUND: { status: 404, doc: 'No pending contact request from that user.' },
  PRESENCE_SESSION_NOT_FOUND: { status: 404, doc: 'No such IM session (or you were never invited to it).' },
  PRESENCE_NOT_MEMBER: { status: 403, doc: 'Only members who joined the session may do that (send, invite).' },
  PRESENCE_NOT_INVITED: { status: 409, doc: 'There is no open invitation to accept or decline.' },
  PRESENCE_MESSAGE_TOO_LARGE: { status: 413, doc: 'The message is over presence.maxMessageBytes.' },
  PRESENCE_STORE_FAILED: { status: 503, doc: 'The message cache could not commit; the message was not stored.' },
  PRESENCE_CLOSED: { status: 503, doc: 'The presence server is shutting down; try again on another node.' },
  PRESENCE_TOKEN_INVALID: { status: 401, doc: 'The resume token is unknown or its session object expired.' },
  // ivr
  // notify
  // federation
  // gateway
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details
      ? { code: this.code, message: this.message, details: { ...this.details } }
      : { code: this.code, message: this.message };
  }
}

export const isAppError = (e: unknown, code?: ErrorCode): e is AppError =>
  e instanceof AppError && (code === undefined || e.code === code);

/** Expected failures as values. */
export type Result<T, E = AppError> = { ok: true; value: T } | { ok: false; error: E };
export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });
