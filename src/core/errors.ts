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
  // telephony
  TELEPHONY_NOT_CONNECTED: { status: 503, doc: 'The connection to Asterisk (ARI) is down; the request was not sent.' },
  TELEPHONY_REQUEST_FAILED: { status: 502, doc: 'Asterisk refused or failed an ARI request; the message says why.' },
  TELEPHONY_RECORDING_NOT_FOUND: { status: 404, doc: 'Asterisk has no stored recording of that name.' },
  TELEPHONY_INVALID_INPUT: { status: 400, doc: 'An endpoint, media URI, recording name or variable is malformed.' },
  TELEPHONY_CLOSED: { status: 503, doc: 'The call-control adapter has been closed.' },
  // sim
  SIM_APP_NOT_REGISTERED: { status: 409, doc: 'No ARI application of that name is connected to the simulator.' },
  SIM_INVALID_INPUT: { status: 400, doc: 'A simulator request is malformed (numbers, keys, callee behaviour).' },
  SIM_BAD_AUDIO: { status: 400, doc: 'A virtual caller was given speech that is not a 16-bit PCM WAV file.' },
  SIM_CALL_ENDED: { status: 409, doc: 'The virtual call has already ended.' },
  SIM_CALL_NOT_FOUND: { status: 404, doc: 'No live virtual call with that id.' },
  SIM_TIMEOUT: { status: 504, doc: 'What a test waited for on a virtual call did not happen in time.' },
  // audio
  // presence
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
