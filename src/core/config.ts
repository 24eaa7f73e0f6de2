/**
 * Configuration, parsed once at start-up from an optional JSON file, then the
 * environment, then explicit overrides (later wins). The schema rejects
 * unknown keys and bad values with a message that names the key; every
 * duration and size carries its unit in its name. This is the only module
 * that reads process.env.
 *
 * Environment: PHONEIM_CONFIG names the file; PHONEIM_<SECTION>__<KEY> sets a
 * key (PHONEIM_HTTP__PORT=8080, PHONEIM_TELEPHONY__ARI__URL=...); the
 * ASTERISK_ARI_* and ASTERISK_AMI_* variables are accepted as aliases, and
 * DATABASE_URL for store.postgres.url.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from './errors.js';

const num = (schema: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), schema);
const int = (min: number, max: number) => num(z.number().int().min(min).max(max));
const bool = () =>
  z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean());
const host = () => z.string().min(1).max(255);

// ---- core -----------------------------------------------------------------
const logSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

const httpSchema = z
  .object({
    host: host().default('127.0.0.1'),
    /** 0 picks a free port. */
    port: int(0, 65535).default(8080),
    /** The URL clients and Asterisk use to reach this node; derived from host and port when absent. */
    publicUrl: z.url().optional(),
    bodyLimitBytes: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
    /** A longer request target (path and query) is answered 414. */
    maxUrlBytes: int(256, 1024 * 1024).default(8192),
    /** The request line and headers together; over it, 431 (414 when the URL alone is over it). */
    maxHeaderBytes: int(1024, 1024 * 1024).default(16 * 1024),
    /** GET /metrics wants this as a bearer token from every client; unset, it answers loopback clients only. */
    metricsToken: z.string().min(16).max(256).optional(),
    /**
     * Believe X-Forwarded-Proto from the peer (only behind a TLS proxy you run). Cookies are marked Secure
     * when http.publicUrl is https, or when this is on and the proxy says https.
     */
    trustForwardedProto: bool().default(false),
    /** Log-in tries (API and form) per client address, and per account name, in a window; over it, 429. */
    loginsPerAddress: int(1, 100_000).default(20),
    loginsPerAccount: int(1, 100_000).default(10),
    loginWindowSeconds: int(1, 24 * 3600).default(60),
    /** Messages one user may post (API, form, WebSocket) in a window; over it, 429. */
    postsPerUser: int(1, 100_000).default(60),
    postWindowSeconds: int(1, 24 * 3600).default(60),
    /** Open WebSockets per user; one more is refused (429 on the upgrade). */
    maxWebSocketsPerUser: int(1, 1000).default(8),
    /** The server pings every WebSocket this often; one that has not answered by the next ping is cut. */
    wsPingSeconds: int(1, 3600).default(30),
  })
  .strict();

// ---- accounts ---------------------------------------------------------------
const accountsSchema = z
  .object({
    /** Failed tries before a lock-out (app_voicemail's maxlogins). */
    maxFailedTries: int(1, 20).default(3),
    lockoutSeconds: int(1, 7 * 24 * 3600).default(300),
    /** scrypt cost parameter N, a power of two. Lower only in tests. */
    kdfCost: int(2, 1 << 20)
      .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
      .default(16384),
    minPasswordLength: int(6, 128).default(8),
    minPinLength: int(4, 10).default(4),
  })
  .strict();

/** How local and national numbers become E.164. Defaults: North American numbering. */
const phoneSchema = z
  .object({
    countryCode: z
      .string()
      .regex(/^[1-9]\d{0,2}$/, 'must be 1-3 digits')
      .default('1'),
    nationalPrefix: z
      .string()
      .regex(/^\d{0,2}$/, 'must be 0-2 digits')
      .default('1'),
    internationalPrefix: z
      .string()
      .regex(/^\d{2,4}$/, 'must be 2-4 digits')
      .default('011'),
    /** Prepended to local numbers (dialled without area code). */
    areaCode: z
      .string()
      .regex(/^\d{1,5}$/, 'must be 1-5 digits')
      .optional(),
    /** Digits of a national significant number, when the plan is closed (10 in NANP). */
    nationalNumberLength: int(4, 14).optional().default(10),
  })
  .strict();

// ---- telephony --------------------------------------------------------------
const telephonySchema = z
  .object({
    ari: z
      .object({
        /** e.g. http://127.0.0.1:8088 ; absent = start the built-in simulator. */
        url: z.url().optional(),
        user: z.string().min(1).default('phoneim'),
        password: z.string().min(1).default('phoneim'),
        app: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -')
          .default('phoneim'),
      })
      .strict()
      .prefault({}),
    ami: z
      .object({
        host: host().optional(),
        port: int(1, 65535).default(5038),
        user: z.string().min(1).default('phoneim'),
        secret: z.string().min(1).default('phoneim'),
        pingIntervalSeconds: int(1, 3600).default(30),
      })
      .strict()
      .prefault({}),
    reconnectInitialMs: int(10, 60_000).default(500),
    reconnectMaxMs: int(100, 600_000).default(30_000),
    /** A playback whose finished event never comes ends as failed after this long. */
    playbackWatchdogSeconds: int(1, 3600).default(300),
    /** A recording whose finished event never comes ends as failed this long after its maximum duration. */
    recordingWatchdogMarginSeconds: int(1, 3600).default(30),
  })
  .strict();

// ---- sim --------------------------------------------------------------------
const simSchema = z
  .object({
    host: host().default('127.0.0.1'),
    /** ARI HTTP/WebSocket port; 0 picks a free one. */
    ariPort: int(0, 65535).default(0),
    amiPort: int(0, 65535).default(0),
    /** How many times faster than real time playback and recording run. */
    speedFactor: num(z.number().min(0.01).max(10_000)).default(1),
    /** Where `sound:<name>` prompts are found (Asterisk's sounds directory). */
    soundsDir: z.string().min(1).default('./sounds'),
    /** The control API (/sim/...: dev phone, CLI); 0 picks a free port. */
    controlPort: int(0, 65535).default(0),
    /** The control API's bearer token; generated at each start when not set. */
    controlToken: z.string().min(16).max(256).optional(),
  })
  .strict();

// ---- audio ------------------------------------------------------------------
const engineName = z.enum(['espeak-ng', 'flite', 'festival', 'say', 'sayjs']);
/** A voice: which engine speaks, with which of its voices, how fast. */
const voiceSchema = z
  .object({
    engine: engineName,
    /** The engine's own voice name (espeak-ng -v, flite -voice, festival voice_NAME, say -v). */
    voice: z.string().regex(/^[A-Za-z0-9_+-]{1,64}$/, 'must be 1-64 letters, digits, _, + or -'),
    /** Speaking rate in percent of the engine's default. */
    ratePercent: int(50, 200).default(100),
  })
  .strict();

const DEFAULT_VOICES = {
  'espeak-ng': { engine: 'espeak-ng', voice: 'en-us', ratePercent: 100 },
  flite: { engine: 'flite', voice: 'slt', ratePercent: 100 },
  festival: { engine: 'festival', voice: 'kal_diphone', ratePercent: 100 },
  say: { engine: 'say', voice: 'Samantha', ratePercent: 100 },
  /** The say npm package (macOS say, Windows SAPI); "default" is the system's voice. */
  sayjs: { engine: 'sayjs', voice: 'default', ratePercent: 100 },
} as const;

const audioSchema = z
  .object({
    /** Secret for signed media URLs; generated and kept in the data directory when absent. */
    urlSecret: z.string().min(16).optional(),
    urlTtlSeconds: int(10, 30 * 24 * 3600).default(24 * 3600),
    /** Messages rendered ahead wait in a queue of at most this many; when full the oldest is dropped. */
    prerenderQueueMax: int(1, 1_000_000).default(1000),
    cacheMaxBytes: int(1024 * 1024, 1024 * 1024 * 1024 * 100).default(512 * 1024 * 1024),
    /** The engine of the default voice when defaultVoice is absent (the voice of the same name). */
    defaultEngine: engineName.default('espeak-ng'),
    maxTextChars: int(10, 100_000).default(2000),
    /** Named voices; speechUrl(text, { voice }) picks one by name. */
    voices: z
      .record(z.string().regex(/^[a-z0-9-]{1,32}$/, 'voice names are 1-32 of a-z, 0-9 and -'), voiceSchema)
      .default({ ...DEFAULT_VOICES }),
    /** The voice used when a request names none; default: the voice named like defaultEngine. */
    defaultVoice: z.string().optional(),
    /** Where `phonectl prompts render` writes the prompt catalogue's files. */
    soundsDir: z.string().min(1).default('./sounds'),
    /** A speech engine run longer than this is killed. */
    engineTimeoutMs: int(1000, 600_000).default(30_000),
  })
  .strict()
  .superRefine((a, ctx) => {
    const name = a.defaultVoice ?? a.defaultEngine;
    if (!a.voices[name])
      ctx.addIssue({
        code: 'custom',
        path: [a.defaultVoice ? 'defaultVoice' : 'voices'],
        message: `names no voice "${name}"`,
      });
  });

// ---- presence ---------------------------------------------------------------
const presenceSchema = z
  .object({
    /** This node's id among the nodes that share the database. */
    nodeId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .default('node-1'),
    sessionObjectIdleSeconds: int(10, 30 * 24 * 3600).default(24 * 3600),
    leaseSeconds: int(1, 3600).default(15),
    maxMessageBytes: int(16, 1024 * 1024).default(8192),
    /** A thin (HTML/WML) client counts as a link this long after its last page. */
    webLinkIdleSeconds: int(5, 24 * 3600).default(90),
    /** How often thin-client pages reload themselves when JavaScript is off. */
    pageRefreshSeconds: int(2, 3600).default(15),
  })
  .strict();

// ---- ivr / notify / federation / gateway ------------------------------------
const ivrSchema = z
  .object({
    /** Silence after a prompt before it is said again (a "try"). */
    firstDigitTimeoutMs: int(100, 60_000).default(5000),
    /** Silence between two keys of a PIN or number before it counts as complete. */
    interDigitTimeoutMs: int(100, 30_000).default(3000),
    /** Silence or wrong keys this many times in a row, then a polite goodbye. */
    maxTries: int(1, 10).default(3),
    /** Speech voice for prompts and messages (the audio server's voice name); its default when absent. */
    voice: z.string().min(1).max(64).optional(),
    recordMaxSeconds: int(1, 600).default(120),
    recordMaxSilenceSeconds: int(1, 60).default(8),
    /** How many new messages the main menu reads per call before asking to go on. */
    maxMessagesPerList: int(1, 500).default(50),
    /** Endpoint of a reverse log-on call: {e164} is the number with its '+', {number} the digits only. */
    dialTemplate: z
      .string()
      .min(3)
      .max(200)
      .refine((s) => s.includes('{number}') || s.includes('{e164}'), 'must contain {number} or {e164}')
      .default('PJSIP/{e164}@trunk'),
    /** Caller ID presented on reverse log-on calls. */
    callerId: z.string().min(1).max(64).optional(),
    /** Answering-machine detection: listen this long at most after answer; 0 turns it off. */
    amdListenSeconds: int(0, 30).default(5),
    /** A greeting that goes on this long without a pause is a machine. */
    amdMachineSeconds: int(1, 30).default(3),
    /** The pause that ends a human's "Hello?". */
    amdSilenceSeconds: int(1, 10).default(1),
  })
  .strict();
const deviceKind = z.enum(['phone', 'pager', 'email']);
/**
 * The notifier: the escalation ladder's timing, and the servers it reaches
 * pagers and mailboxes through. Durations in seconds unless named *Ms.
 */
const notifySchema = z
  .object({
    /** Wait this long after the first unreachable message before the first step; later messages fold into the alert. */
    collectDelaySeconds: int(0, 3600).default(20),
    /** Device kinds the default ladder takes from the device registry (in the registry's order). */
    ladderKinds: z.array(deviceKind).max(3).default(['phone', 'pager', 'email']),
    /** How long to wait after each kind of step for the recipient to show up before the next step. */
    waitAfterCallSeconds: int(0, 86_400).default(60),
    waitAfterPageSeconds: int(0, 86_400).default(180),
    waitAfterEmailSeconds: int(0, 86_400).default(0),
    /** Ring a reverse log-on call this long. */
    ringSeconds: int(5, 180).default(30),
    /** When a machine answers a reverse log-on call, leave the message after the beep. */
    leaveVoicemail: bool().default(false),
    /** Tries of one step when the server is unreachable or says "try later" (SMTP 4xx, SNPP 4xx). */
    maxAttempts: int(1, 10).default(3),
    retryDelaySeconds: int(1, 3600).default(30),
    /** The scheduler looks for work written by other processes (the CLI, other nodes) this often. */
    pollSeconds: int(1, 3600).default(5),
    /** Steps performed at the same time. */
    concurrency: int(1, 1000).default(32),
    /**
     * Alerts opened and steps recorded within this window share one commit (one fsync): more steps per
     * second under load, at the price of this much latency per write. 0: only those of one event-loop turn.
     */
    commitWindowMs: int(0, 1000).default(5),
    /** The number to call to listen and reply, printed in pages and emails. */
    callbackNumber: z
      .string()
      .regex(/^\+?[0-9][0-9 ()-]{2,24}$/, 'must be a phone number')
      .optional(),
    /** A page is cut to this many characters. */
    pageMaxChars: int(40, 1000).default(160),
    /** On start, messages no link took in this many past hours, and in no alert yet, open their alert. */
    recoverHours: int(0, 24 * 30).default(24),
    /** At most this many such messages are picked up on one start. */
    recoverMaxMessages: int(0, 1_000_000).default(1000),
    /** At most this many messages are listed in one alert email; the rest are counted ("and N more"). */
    emailMaxMessages: int(1, 1000).default(20),
    /** How long the reply link in an email keeps working. */
    replyLinkTtlSeconds: int(60, 30 * 24 * 3600).default(7 * 24 * 3600),
    /** HMAC key of reply links; generated and kept in the data directory when absent. */
    linkSecret: z.string().min(16).optional(),
    smtp: z
      .object({
        host: host().default('127.0.0.1'),
        port: int(1, 65535).default(25),
        /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
        secure: bool().default(false),
        from: z.string().min(3).max(320).default('Phone IM <notify@localhost>'),
        user: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
        timeoutMs: int(100, 600_000).default(30_000),
        /** SMTP connections kept open at once (a pool: each carries mail after mail). */
        maxConnections: int(1, 100).default(5),
        /** A pooled SMTP connection is closed and opened anew after this many messages. */
        maxMessages: int(1, 100_000).default(100),
      })
      .strict()
      .prefault({}),
    snpp: z
      .object({
        host: host().default('127.0.0.1'),
        port: int(1, 65535).default(444),
        timeoutMs: int(100, 600_000).default(15_000),
        /** SNPP connections kept open at once, each carrying page after page. */
        maxConnections: int(1, 64).default(4),
        /** A kept-open SNPP connection idle this long is closed (QUIT). */
        idleMs: int(100, 3_600_000).default(30_000),
      })
      .strict()
      .prefault({}),
    smpp: z
      .object({
        host: host().default('127.0.0.1'),
        port: int(1, 65535).default(2775),
        systemId: z.string().min(1).max(15).default('phoneim'),
        password: z.string().max(8).default(''),
        /** The sender number or name shown on the handset. */
        sourceAddr: z.string().min(1).max(20).default('PhoneIM'),
        timeoutMs: int(100, 600_000).default(15_000),
      })
      .strict()
      .prefault({}),
    /** Answering an alert by SMS: pages sent over SMPP carry a reply code; replies come as deliver_sm. */
    smsReplies: z
      .object({
        enabled: bool().default(true),
        /** Digits of a reply code. */
        codeDigits: int(4, 8).default(4),
        /** A code admits a reply this long after its page at most (and never once its alert is cancelled). */
        ttlSeconds: int(60, 30 * 24 * 3600).default(24 * 3600),
        /** Replies taken from one number per hour; more are dropped unanswered. */
        maxPerSenderPerHour: int(1, 1000).default(10),
        /** Polite "not delivered" answers sent to one number per hour; more refusals are silent. */
        politePerSenderPerHour: int(0, 100).default(3),
        /** How long to wait before binding again after the SMS centre dropped the receiver (doubling to 60 s). */
        rebindInitialMs: int(100, 600_000).default(1000),
      })
      .strict()
      .prefault({}),
  })
  .strict();
/** The demo's captured mailbox and pager log (src/dev/mailbox.ts); started only in demo mode. */
const devMailboxSchema = z
  .object({
    host: host().default('127.0.0.1'),
    /** The mailbox web page; its SMTP and SNPP servers take any free port. */
    port: int(0, 65535).default(8025),
    /** Mails kept, and pages kept; the oldest go first. */
    maxMessages: int(1, 10_000).default(500),
  })
  .strict();
// ---- language ---------------------------------------------------------------
const languageSchema = z
  .object({
    /** The language (BCP 47) of users who have not chosen one; it must have a catalogue (en, es, fr, de). */
    default: z
      .string()
      .regex(/^(en|es|fr|de)(-[A-Za-z0-9]{1,8})*$/, 'must be a BCP 47 tag of en, es, fr or de')
      .default('en'),
    /** Read a message body in its own language when the detector is sure of it. */
    detectMessages: bool().default(true),
    /** Fewer letters than this in a message body: read it in the listener's language. */
    detectMinLetters: int(1, 10_000).default(20),
    /** The detector's best guess must lead the next by this much (0-1). */
    detectMinLead: z.number().min(0).max(1).default(0.05),
    /** Languages (ISO 639-1) a message body may be read in; each needs a voice (espeak-ng has them all). */
    messageLanguages: z
      .array(z.string().regex(/^[a-z]{2}$/, 'must be a two-letter ISO 639-1 code'))
      .max(60)
      .default(['en', 'es', 'fr', 'de', 'it', 'pt', 'nl']),
    /** A voice (audio.voices name) per language; absent: espeak-ng with the language's own voice. */
    voices: z.record(z.string().regex(/^[a-z]{2}(-[A-Za-z0-9]{1,8})*$/), z.string().min(1).max(32)).default({}),
  })
  .strict();
/** The XMPP gateway: a XEP-0114 component of an XMPP server; absent, no gateway runs. */
const xmppGatewaySchema = z
  .object({
    /** The XMPP server's component listener. */
    host: host().default('127.0.0.1'),
    port: int(1, 65535).default(5347),
    /** The component's subdomain: local users are <username>@<domain>. */
    domain: z
      .string()
      .regex(/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i)
      .transform((s) => s.toLowerCase()),
    /** The component secret the server shares with us (never logged). */
    secret: z.string().min(8).max(1024),
    /** Reconnect backoff: first wait and longest wait (ms), doubling in between; it never gives up. */
    reconnectMinMs: int(50, 60_000).default(500),
    reconnectMaxMs: int(100, 3_600_000).default(30_000),
    /** Stanzas one outside JID may send per second (a bucket of this size refilled each second); more are dropped. */
    maxStanzasPerSecond: int(1, 10_000).default(20),
    /** A larger stanza is refused (its body is also held to presence.maxMessageBytes). */
    maxStanzaBytes: int(1024, 10 * 1024 * 1024).default(65_536),
  })
  .strict();
const gatewaySchema = z.object({ xmpp: xmppGatewaySchema.optional() }).strict();
/**
 * Federation with peer communities (src/federation). The key pair is made on
 * first start and kept in the data directory (federation-key.pem, 0600).
 */
const federationSchema = z
  .object({
    /** This community's domain: the part after '@' in its users' addresses. */
    domain: z
      .string()
      .regex(
        /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
        'must be a lower-case domain name',
      )
      .max(253)
      .default('localhost'),
    /** How this community is named to others' users ("Alice from <name> wants to chat"); default: the domain. */
    displayName: z.string().min(1).max(64).optional(),
    /** The URL peers reach this community at; default: http.publicUrl. */
    publicUrl: z.url().optional(),
    /** A signed request body larger than this is refused (413). */
    maxBodyBytes: int(1024, 16 * 1024 * 1024).default(262_144),
    /** A request whose Date or signature creation time is further than this from ours is refused. */
    maxClockSkewSeconds: int(5, 3600).default(300),
    /** Signed requests one peer may make per minute; more get 429. */
    requestsPerPeerPerMinute: int(1, 1_000_000).default(6000),
    /** Members (all communities) one cross-community session may have. */
    maxMembersPerSession: int(2, 1000).default(50),
    /** Events sent to a peer in one request. */
    batchSize: int(1, 1000).default(100),
    /** Back-off of a peer that does not answer: from this, doubling, up to the maximum. */
    retryInitialMs: int(10, 600_000).default(500),
    retryMaxMs: int(100, 3_600_000).default(60_000),
    /** A request to a peer that takes longer than this has failed. */
    requestTimeoutMs: int(100, 600_000).default(10_000),
  })
  .strict();

// ---- store ------------------------------------------------------------------
const storeSchema = z
  .object({
    /** sqlite: one node, the file <dataDir>/phoneim.db (the default). postgres: several nodes on one database. */
    kind: z.enum(['sqlite', 'postgres']).default('sqlite'),
    postgres: z
      .object({
        /** postgres://user:password@host:port/database (DATABASE_URL sets it too); required when kind is postgres. */
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
          .optional(),
        /** Connections this node keeps open (the LISTEN connection of the cross-node feed is one more). */
        poolSize: int(1, 1000).default(10),
        /** A statement running longer than this is cancelled; 0 = no limit. */
        statementTimeoutMs: int(0, 3_600_000).default(30_000),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.kind === 'postgres' && !s.postgres.url)
      ctx.addIssue({ code: 'custom', path: ['postgres', 'url'], message: 'is required when store.kind is postgres' });
  });

export const configSchema = z
  .object({
    /** Where the SQLite database, audio store and generated secrets live. */
    dataDir: z.string().min(1).default('./data'),
    /** Seed a demo community (two users) on first start. */
    demo: bool().default(false),
    log: logSchema.prefault({}),
    http: httpSchema.prefault({}),
    accounts: accountsSchema.prefault({}),
    phone: phoneSchema.prefault({}),
    telephony: telephonySchema.prefault({}),
    sim: simSchema.prefault({}),
    audio: audioSchema.prefault({}),
    presence: presenceSchema.prefault({}),
    ivr: ivrSchema.prefault({}),
    notify: notifySchema.prefault({}),
    devMailbox: devMailboxSchema.prefault({}),
    language: languageSchema.prefault({}),
    federation: federationSchema.prefault({}),
    gateway: gatewaySchema.prefault({}),
    store: storeSchema.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const [lang, voice] of Object.entries(c.language.voices))
      if (!Object.hasOwn(c.audio.voices, voice))
        ctx.addIssue({
          code: 'custom',
          path: ['language', 'voices', lang],
          message: `names no voice "${voice}" of audio.voices`,
        });
  });

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

const ENV_PREFIX = 'PHONEIM_';
const ENV_ALIASES: Record<string, string[]> = {
  ASTERISK_ARI_URL: ['telephony', 'ari', 'url'],
  ASTERISK_ARI_USER: ['telephony', 'ari', 'user'],
  ASTERISK_ARI_PASSWORD: ['telephony', 'ari', 'password'],
  ASTERISK_ARI_APP: ['telephony', 'ari', 'app'],
  ASTERISK_AMI_HOST: ['telephony', 'ami', 'host'],
  ASTERISK_AMI_PORT: ['telephony', 'ami', 'port'],
  ASTERISK_AMI_USER: ['telephony', 'ami', 'user'],
  ASTERISK_AMI_SECRET: ['telephony', 'ami', 'secret'],
  DATABASE_URL: ['store', 'postgres', 'url'],
};

const camel = (s: string) => s.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

type Tree = Record<string, unknown>;

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1] as string] = value;
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      typeof b === 'object' &&
      b !== null &&
      !Array.isArray(b)
        ? merge(b as Tree, v as Tree)
        : v;
  }
  return out;
}

function fromEnv(env: NodeJS.ProcessEnv): Tree {
  const tree: Tree = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const alias = ENV_ALIASES[name];
    if (alias) setPath(tree, alias, value);
    else if (name.startsWith(ENV_PREFIX) && name !== `${ENV_PREFIX}CONFIG`) {
      const path = name.slice(ENV_PREFIX.length).split('__').map(camel);
      if (path.some((p) => p === '')) throw invalid(name, 'is not a valid configuration variable name');
      setPath(tree, path, value);
    }
  }
  return tree;
}

function invalid(key: string, message: string): AppError {
  return new AppError('CORE_CONFIG_INVALID', `config: ${key} ${message}`, { key });
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** A JSON file; defaults to PHONEIM_CONFIG from the environment. */
  file?: string;
  overrides?: ConfigInput | Tree;
}

/** Parses and validates the whole configuration; throws AppError(CORE_CONFIG_INVALID) naming the key. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? {};
  const file = options.file ?? env[`${ENV_PREFIX}CONFIG`];
  let fromFile: Tree = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw invalid(`file ${file}`, `cannot be read: ${(e as Error).message}`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('the top level must be an object');
      fromFile = parsed as Tree;
    } catch (e) {
      throw invalid(`file ${file}`, `is not valid JSON: ${(e as Error).message}`);
    }
  }
  const raw = merge(merge(fromFile, fromEnv(env)), (options.overrides ?? {}) as Tree);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (!issue) throw invalid('(root)', 'is invalid');
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => [...path, k].join('.'));
      throw invalid(keys.join(', '), 'is not a known key');
    }
    throw invalid(path.join('.') || '(root)', `is invalid: ${issue.message}`);
  }
  return parsed.data;
}

/** The configuration's public URL of this node's HTTP server. */
export function publicUrl(config: Config, boundPort?: number): string {
  if (config.http.publicUrl) return config.http.publicUrl.replace(/\/+$/, '');
  const h = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  return `http://${h}:${boundPort ?? config.http.port}`;
}

/** The process's own configuration: PHONEIM_CONFIG, PHONEIM_* and ASTERISK_* variables. */
export function loadProcessConfig(overrides?: LoadConfigOptions['overrides']): Config {
  return loadConfig({ env: process.env, ...(overrides ? { overrides } : {}) });
}

/** The process environment, for entry points that pass it on to loadConfig. */
export function processEnvironment(): NodeJS.ProcessEnv {
  return process.env;
}
