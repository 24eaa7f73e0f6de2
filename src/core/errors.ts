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
  CORE_PORT_UNAVAILABLE: {
    status: 409,
    doc: 'A listener cannot bind its port (in use, or not allowed); the message names the config key to change.',
  },
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
  ACCOUNTS_LANGUAGE_UNSUPPORTED: {
    status: 400,
    doc: 'The language is not a BCP 47 tag, or not one the platform speaks (en, es, fr, de).',
  },
  // web
  WEB_NOT_FOUND: { status: 404, doc: 'No such resource.' },
  WEB_BAD_REQUEST: { status: 400, doc: 'The request is malformed.' },
  WEB_PAYLOAD_TOO_LARGE: { status: 413, doc: 'The request body is over the size limit.' },
  WEB_METHOD_NOT_ALLOWED: { status: 405, doc: 'The resource does not accept that method.' },
  WEB_UNAUTHORIZED: { status: 401, doc: 'Log in first: no session token, or an expired or unknown one.' },
  WEB_CSRF_FAILED: { status: 403, doc: 'The form carried no valid CSRF token; reload the page and try again.' },
  WEB_URL_TOO_LONG: { status: 414, doc: 'The request target (path and query) is over http.maxUrlBytes.' },
  WEB_HEADERS_TOO_LARGE: { status: 431, doc: 'The request line and headers are over http.maxHeaderBytes.' },
  WEB_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    doc: 'The body is of a type the route does not read (the API reads application/json, pages read forms).',
  },
  WEB_NOT_READY: {
    status: 503,
    doc: 'Not ready for traffic: the database is not writable or Asterisk (ARI, AMI) is not connected.',
  },
  WEB_METRICS_FORBIDDEN: {
    status: 403,
    doc: 'Metrics are served to loopback clients, or to others with http.metricsToken as a bearer token.',
  },
  WEB_RATE_LIMITED: {
    status: 429,
    doc: 'Too many log-ins or posts in a short time; wait the seconds in Retry-After and try again.',
  },
  WEB_TOO_MANY_SOCKETS: { status: 429, doc: 'The user already holds http.maxWebSocketsPerUser WebSockets.' },
  WEB_ADMIN_ONLY: { status: 403, doc: "The operator's view is for users with the admin role." },
  WEB_LINK_USED: { status: 410, doc: 'A reply link was already used once; log in to reply.' },
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
  SIM_MEDIA_NOT_FOUND: {
    status: 404,
    doc: 'The dev phone asked for audio the simulator is not playing, or that has no file a browser can play.',
  },
  SIM_CONTROL_REFUSED: {
    status: 400,
    doc: "The simulator's control API refused a phonectl sim request (its reason follows).",
  },
  SIM_CONTROL_UNREACHABLE: { status: 503, doc: "phonectl sim could not reach the simulator's control API." },
  SIM_TOO_MANY_PHONES: { status: 503, doc: 'Too many dev phone pages hold an event stream at once.' },
  SIM_UNAUTHORIZED: {
    status: 401,
    doc: "The control API needs its token (printed with its URL) as 'authorization: Bearer <token>' or ?token=.",
  },
  SIM_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    doc: 'The control API takes JSON only as application/json, and speech only as audio/wav.',
  },
  // audio
  AUDIO_TEXT_INVALID: { status: 400, doc: 'The text to speak is not a string or is not valid Unicode.' },
  AUDIO_TEXT_TOO_LONG: { status: 413, doc: 'The text to speak is longer than audio.maxTextChars.' },
  AUDIO_TEXT_EMPTY: {
    status: 400,
    doc: 'The text to speak has nothing that can be spoken (only punctuation, markup or emoji).',
  },
  AUDIO_VOICE_UNKNOWN: { status: 400, doc: 'No such voice in audio.voices.' },
  AUDIO_ENGINE_UNAVAILABLE: {
    status: 503,
    doc: 'The speech engine of that voice is not installed or cannot export audio here.',
  },
  AUDIO_ENGINE_FAILED: { status: 502, doc: 'The speech engine failed, timed out or wrote no audio.' },
  AUDIO_NOT_FOUND: { status: 404, doc: 'No such audio (unknown id or format, or evicted from the cache).' },
  AUDIO_URL_INVALID: {
    status: 403,
    doc: 'The media URL signature does not match: it was altered or signed elsewhere.',
  },
  AUDIO_URL_EXPIRED: { status: 403, doc: 'The signed media URL has expired.' },
  AUDIO_RANGE_NOT_SATISFIABLE: { status: 416, doc: 'The requested byte range lies outside the file.' },
  AUDIO_RECORDING_INVALID: { status: 400, doc: 'The recording is empty or not in a format that can be decoded.' },
  AUDIO_TRANSCODE_FAILED: { status: 500, doc: 'Converting audio (sox or ffmpeg) failed.' },
  AUDIO_PROMPT_UNKNOWN: { status: 404, doc: 'No such prompt in the prompt catalogue.' },
  // presence
  PRESENCE_INVALID_INPUT: { status: 400, doc: 'A presence state, status text, message or id is malformed.' },
  PRESENCE_USER_NOT_FOUND: { status: 404, doc: 'No such user to add, invite or subscribe to.' },
  PRESENCE_NOT_CONTACT: { status: 403, doc: 'Only approved contacts can be invited to a session.' },
  PRESENCE_REQUEST_NOT_FOUND: { status: 404, doc: 'No pending contact request from that user.' },
  PRESENCE_SESSION_NOT_FOUND: { status: 404, doc: 'No such IM session (or you were never invited to it).' },
  PRESENCE_NOT_MEMBER: { status: 403, doc: 'Only members who joined the session may do that (send, invite).' },
  PRESENCE_NOT_INVITED: { status: 409, doc: 'There is no open invitation to accept or decline.' },
  PRESENCE_MESSAGE_TOO_LARGE: { status: 413, doc: 'The message is over presence.maxMessageBytes.' },
  PRESENCE_CLIENT_ID_CONFLICT: {
    status: 409,
    doc: 'That client message id already names another message of yours in this session (a different body).',
  },
  PRESENCE_STORE_FAILED: { status: 503, doc: 'The message cache could not commit; the message was not stored.' },
  PRESENCE_CLOSED: { status: 503, doc: 'The presence server is shutting down; try again on another node.' },
  PRESENCE_TOKEN_INVALID: { status: 401, doc: 'The resume token is unknown or its session object expired.' },
  // federation
  FEDERATION_INVALID_INPUT: { status: 400, doc: 'A peer name, URL, key or address (user@community) is malformed.' },
  FEDERATION_PEER_NOT_FOUND: { status: 404, doc: 'No such peer community in the registry.' },
  FEDERATION_UNKNOWN_PEER: {
    status: 401,
    doc: 'A signed request names a key (community) that is not in the peer registry, or is suspended.',
  },
  FEDERATION_SIGNATURE_MISSING: {
    status: 401,
    doc: 'A server-to-server request carries no RFC 9421 signature over method, path, digest, date and nonce.',
  },
  FEDERATION_SIGNATURE_INVALID: { status: 401, doc: "The signature does not verify with the named peer's key." },
  FEDERATION_STALE_DATE: {
    status: 401,
    doc: 'The Date header or signature creation time is further than federation.maxClockSkewSeconds from ours.',
  },
  FEDERATION_NONCE_REPLAYED: { status: 401, doc: 'The signature nonce was already used: a replayed request.' },
  FEDERATION_DIGEST_MISMATCH: {
    status: 401,
    doc: 'The body does not match its Content-Digest (RFC 9530, sha-256), or the digest is missing.',
  },
  FEDERATION_BAD_REQUEST: { status: 400, doc: 'A signed request body is not JSON of the expected shape.' },
  FEDERATION_FORBIDDEN: {
    status: 403,
    doc: 'A peer acted for a user it does not host, or on a session none of its users is a member of.',
  },
  FEDERATION_RATE_LIMITED: {
    status: 429,
    doc: 'The peer made more than federation.requestsPerPeerPerMinute signed requests in a minute.',
  },
  FEDERATION_SESSION_FULL: { status: 409, doc: 'The session already has federation.maxMembersPerSession members.' },
  FEDERATION_PEER_UNREACHABLE: {
    status: 502,
    doc: 'The peer community did not answer (refused, timed out); queued events are retried.',
  },
  FEDERATION_PEER_REFUSED: { status: 502, doc: 'The peer community refused our request (its code is logged).' },
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
  NOTIFY_INVALID_INPUT: { status: 400, doc: 'A notifier request (message, ladder override, alert id) is malformed.' },
  NOTIFY_ALERT_NOT_FOUND: { status: 404, doc: 'No such alert.' },
  NOTIFY_NOT_RETRYABLE: { status: 409, doc: 'The alert or step is still running, or has nothing left to retry.' },
  NOTIFY_ALERT_ENDED: { status: 409, doc: 'The alert has already ended (done or cancelled).' },
  NOTIFY_ALERT_BUSY: { status: 409, doc: 'The user already has an open alert; wait for it or cancel it first.' },
  NOTIFY_STEP_INTERRUPTED: {
    status: 500,
    doc: 'The notifier stopped while performing a step; it is not performed again (it may or may not have gone out).',
  },
  NOTIFY_SMTP_REJECTED: { status: 502, doc: 'The SMTP server refused the email for good (a 5xx reply).' },
  NOTIFY_SMTP_UNAVAILABLE: {
    status: 503,
    doc: 'The SMTP server could not be reached, timed out or said try later (4xx); the step is retried.',
  },
  NOTIFY_SNPP_REJECTED: { status: 502, doc: 'The SNPP server refused the page for good (a 5xx reply).' },
  NOTIFY_SNPP_UNAVAILABLE: { status: 503, doc: 'The SNPP server could not be reached, timed out or said try later.' },
  NOTIFY_SNPP_PROTOCOL: { status: 502, doc: 'The SNPP server answered something that is not RFC 1861.' },
  NOTIFY_SMPP_REJECTED: {
    status: 502,
    doc: 'The SMS centre refused the bind or the message (a non-zero command status).',
  },
  NOTIFY_SMPP_UNAVAILABLE: { status: 503, doc: 'The SMS centre could not be reached or did not answer in time.' },
  NOTIFY_AUDIO_UNAVAILABLE: {
    status: 502,
    doc: 'The audio of a voice message could not be made into an MP3 attachment.',
  },
  NOTIFY_LINK_INVALID: { status: 401, doc: 'A reply link is malformed or its signature does not match.' },
  NOTIFY_LINK_EXPIRED: { status: 401, doc: 'A reply link is past its expiry time.' },
  // federation
  // gateway
  GATEWAY_UNKNOWN_USER: {
    status: 404,
    doc: 'An XMPP stanza was addressed to a JID on the gateway that names no local user.',
  },
  GATEWAY_SPOOFED_FROM: {
    status: 403,
    doc: "An XMPP stanza came with no valid 'from', or one on the gateway's own domain; it is dropped.",
  },
  GATEWAY_RATE_LIMITED: {
    status: 429,
    doc: 'An outside JID sent more than gateway.xmpp.maxStanzasPerSecond stanzas; the rest are dropped.',
  },
  GATEWAY_STANZA_TOO_LARGE: {
    status: 413,
    doc: 'An XMPP stanza was over gateway.xmpp.maxStanzaBytes, or its body over presence.maxMessageBytes.',
  },
  GATEWAY_NOT_SUBSCRIBED: {
    status: 403,
    doc: 'An XMPP user wrote to a local user who has not approved them as a contact.',
  },
  GATEWAY_INVALID_JID: { status: 400, doc: 'That is not a bare JID of an outside XMPP user (user@domain).' },
  GATEWAY_NOT_CONFIGURED: { status: 409, doc: 'The XMPP gateway is not configured (gateway.xmpp).' },
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
