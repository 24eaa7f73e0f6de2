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
  // sim
  // audio
  // presence
  // ivr
  IVR_MENU_INVALID: {
    status: 500,
    doc: 'A menu definition is invalid (duplicate or bad key, unknown prompt); found at start-up.',
  },
  IVR_PROMPT_UNKNOWN: { status: 500, doc: 'No prompt with that id in the IVR prompt catalogue (src/ivr/prompts.ts).' },
  IVR_VERB_PRECONDITION: {
    status: 500,
    doc: 'A verb was run where it cannot run (the call has ended, nobody is logged on, nothing to play).',
  },
  IVR_CALL_ENDED: { status: 410, doc: 'The caller hung up; the flow stops and cleans up.' },
  IVR_PIN_LOCKED: { status: 423, doc: 'Too many wrong PINs: the caller hears goodbye and the call ends.' },
  IVR_RECORDING_FAILED: { status: 502, doc: 'The PBX could not record the reply or hand over its audio.' },
  IVR_BAD_REQUEST: { status: 400, doc: 'A reverse log-on request is malformed (phone number, messages, ring time).' },
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
