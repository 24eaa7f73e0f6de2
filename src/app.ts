/**
 * The platform as one object: builds every part from the config and hands
 * each its collaborators (the composition root's body; src/main.ts only adds
 * the process around it). Tests start it on port 0 with a temporary data
 * directory, exactly as `make run` starts it.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { AccountService } from './accounts/account-service.js';
import { Roles } from './accounts/roles.js';
import { AudioService } from './audio/audio-service.js';
import { audioPlugin } from './audio/routes.js';
import { type Clock, SystemClock } from './core/clock.js';
import { type Config, publicUrl } from './core/config.js';
import type { Logger } from './core/logger.js';
import { type Metrics, noMetrics } from './core/metrics.js';
import { PrometheusMetrics } from './core/prometheus.js';
import { AppError } from './core/errors.js';
import { peerClient } from './federation/client.js';
import { FederationService } from './federation/federation-service.js';
import type { FederationStore } from './federation/ports.js';
import { loadOrCreateKey } from './federation/keys.js';
import { federationPlugin } from './federation/routes.js';
import { portError } from './core/net.js';
import { audioForIvr, presenceForIvr } from './ivr/adapters.js';
import { seedDemo } from './ivr/demo.js';
import { IvrService } from './ivr/ivr-service.js';
import type { IvrResumePort, IvrResumeStore } from './ivr/ports.js';
import { CATALOGUES as IVR_CATALOGUES, PROMPTS as IVR_PROMPTS } from './ivr/prompts.js';
import { SmtpSender } from './notify/mailer.js';
import { Notifier } from './notify/notifier.js';
import { PagerGateway } from './notify/pager.js';
import { sendSmppMessage } from './notify/smpp-client.js';
import { SmppReceiver } from './notify/smpp-receiver.js';
import { SmsReplies } from './notify/sms-replies.js';
import type { AudioAttachmentPort, SenderNoticePort } from './notify/ports.js';
import { replyLinkSecret } from './notify/reply-link.js';
import type { ReverseLogonPort } from './notify/reverse-logon-port.js';
import { XmppGateway } from './gateway/xmpp-gateway.js';
import { buildPresence } from './presence/build.js';
import { connectParts, lineStateFor, senderNoticeFor } from './wiring.js';
import type { PresenceService } from './presence/presence-service.js';
import type { Simulator } from './sim/index.js';
import { openSqliteStore, type Store, sqlitePath } from './store/index.js';
import type { CallControl, DeviceStateSource } from './telephony/port.js';
import { Telephony } from './telephony/telephony.js';
import { AdminView } from './web/admin.js';
import { opsPlugin } from './web/ops.js';
import { createWebServer, type WebServer } from './web/server.js';
import { mountWeb, type WebMount } from './web/web-app.js';

export const VERSION = '0.1.0';

/** The IVR's resume port over the store: a position is good for `lifetimeMs`. */
function resumeFor(store: IvrResumeStore, lifetimeMs: number): IvrResumePort {
  return {
    remember: (userId, position, now) => store.remember(userId, position, now, now + lifetimeMs),
    recall: (userId, now) => store.recall(userId, now),
    forget: (userId) => store.forget(userId),
  };
}

export interface PlatformDeps {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** The HTTP origin media URLs point at; default: http.publicUrl or host and port. */
  baseUrl?: () => string;
  /** The notifier's ports to other parts; absent ones are skipped (and logged). */
  reverseLogon?: ReverseLogonPort;
  senderNotice?: SenderNoticePort;
  audio?: AudioAttachmentPort;
  /** Where the parts report their figures; default: nowhere (the Platform keeps Prometheus metrics). */
  metrics?: Metrics;
  /**
   * The store, opened and migrated (`openStore`); the platform closes it when
   * it stops. Default: the embedded SQLite file in the data directory.
   */
  store?: Store;
}

/** The services a running platform exposes (to tests, the CLI and each other). */
export interface Services {
  config: Config;
  log: Logger;
  clock: Clock;
  metrics: Metrics;
  /** Every storage port, on the configured backend. */
  store: Store;
  accounts: AccountService;
  /** Users' roles (admin: the operator's view). */
  roles: Roles;
  audio: AudioService;
  notifier: Notifier;
  presence: PresenceService;
  /** Call control (ARI); connected by Platform.start. */
  callControl: CallControl;
  /** Device states (AMI); connected by Platform.start. */
  deviceStates: DeviceStateSource;
  /** The embedded softswitch simulator, when no Asterisk is configured (set by Platform.start). */
  sim: Simulator | undefined;
  telephony: Telephony;
  /** The IVR: takes the calls of callControl once the platform starts. */
  ivr: IvrService;
  /** The reverse log-on call (the IVR); answers 'failed' while telephony is not up. */
  reverseLogon: ReverseLogonPort;
  /** Alerts answered by SMS: reply codes in SMPP pages, and the receiver of the replies. */
  smsReplies: SmsReplies;
  smsReceiver: SmppReceiver;
  /** The XMPP gateway, when gateway.xmpp is configured; connected by Platform.start. */
  gateway: XmppGateway | undefined;
  /** Peer communities and cross-community sessions. */
  federation: FederationService;
  federationStore: FederationStore;
}

/** The embedded SQLite file of a configuration. */
export const dbPath = (config: Config): string => sqlitePath(config);

/** The store and the services over it, without any listener: what the admin CLI uses. */
export function buildServices(deps: PlatformDeps): Services {
  const { config, log } = deps;
  const clock = deps.clock ?? new SystemClock();
  const metrics = deps.metrics ?? noMetrics;
  mkdirSync(resolve(config.dataDir), { recursive: true });
  const store =
    deps.store ??
    openSqliteStore({
      path: dbPath(config),
      nodeId: config.presence.nodeId,
      onError: (e) => log.error({ err: e, part: 'store' }, 'the store failed in the background'),
    });
  const accounts = new AccountService({
    repo: store.accounts,
    clock,
    config,
    log: log.child({ part: 'accounts' }),
    metrics,
  });
  const audio = new AudioService({
    config,
    store: store.audio,
    clock,
    log: log.child({ part: 'audio' }),
    baseUrl: deps.baseUrl ?? (() => publicUrl(config)),
    metrics,
    prompts: IVR_PROMPTS,
    promptCatalogues: Object.fromEntries(Object.entries(IVR_CATALOGUES).map(([lang, c]) => [lang, c.prompts])),
  });
  // Voice messages keep their audio id; a URL is signed each time one is read (signed URLs expire).
  const audioUrl = (audioId: string): string | null => {
    try {
      return audio.signedUrl(audioId, 'wav');
    } catch {
      return null;
    }
  };
  const presence = buildPresence({ config, store, accounts, clock, log, audioUrl, metrics });
  const telephony = new Telephony(config, log.child({ part: 'telephony' }), clock);
  const ivr = new IvrService({
    control: telephony.callControl,
    audio: audioForIvr(audio),
    presence: presenceForIvr(presence, accounts),
    resume: resumeFor(store.ivrResume, config.presence.sessionObjectIdleSeconds * 1000),
    accounts,
    clock,
    config,
    log: log.child({ part: 'ivr' }),
    tracePrompts: config.demo,
    metrics,
  });
  const email = new SmtpSender(config.notify.smtp);
  const notifyLog = log.child({ part: 'notify' });
  const smsReplies: SmsReplies = new SmsReplies({
    store: store.smsReplies,
    clock,
    log: notifyLog,
    config: config.notify.smsReplies,
    defaultLanguage: config.language.default,
    post: async (userId, sessionId, text) => {
      // Answering an invitation is accepting it (as on the phone).
      if ((await presence.members(sessionId)).find((m) => m.userId === userId)?.state === 'invited')
        await presence.accept(sessionId, userId);
      return await presence.postMessage({ sessionId, fromUserId: userId, text });
    },
    answered: async (alertId) => {
      await notifier.answered(alertId, 'SMS');
    },
    languageOf: async (userId) => (await accounts.userById(userId))?.language,
    send: (to, text) => sendSmppMessage(config.notify.smpp, to, text),
    onIssued: () => smsReceiver.ensure(),
  });
  const smsReceiver = new SmppReceiver(
    config.notify.smpp,
    config.notify.smsReplies.rebindInitialMs,
    (sms) => smsReplies.receive(sms),
    notifyLog,
  );
  const notifier = new Notifier({
    repo: store.notify,
    accounts,
    clock,
    config,
    log: log.child({ part: 'notify' }),
    email,
    pager: new PagerGateway(config.notify, email),
    reverseLogon: deps.reverseLogon ?? ivr.reverseLogon,
    senderNotice: deps.senderNotice ?? senderNoticeFor(presence, log.child({ part: 'notify' })),
    audio: deps.audio ?? audio,
    lineState: lineStateFor(presence),
    linkSecret: replyLinkSecret(config),
    onDelivered: (e) => presence.markNotified(e.recipientId, e.messageIds),
    baseUrl: publicUrl(config),
    metrics,
    smsReplies,
  });
  const xmpp = config.gateway.xmpp;
  const gateway = xmpp
    ? new XmppGateway({
        config: xmpp,
        presence,
        accounts,
        store: store.gateway,
        clock,
        log: log.child({ part: 'gateway' }),
        nodeId: config.presence.nodeId,
        maxMessageBytes: config.presence.maxMessageBytes,
        audioUrl,
      })
    : undefined;
  const federationStore = store.federation;
  const key = loadOrCreateKey(config.dataDir);
  const federation = new FederationService({
    store: federationStore,
    presence,
    accounts,
    config,
    clock,
    log: log.child({ part: 'federation' }),
    key,
    baseUrl: () => (config.federation.publicUrl ?? (deps.baseUrl ?? (() => publicUrl(config)))()).replace(/\/+$/, ''),
    client: peerClient({ key, keyId: config.federation.domain, clock, timeoutMs: config.federation.requestTimeoutMs }),
    audio,
  });
  return {
    federation,
    federationStore,
    config,
    log,
    clock,
    metrics,
    store,
    accounts,
    roles: new Roles(store.roles, accounts, () => clock.now()),
    audio,
    notifier,
    presence,
    telephony,
    callControl: telephony.callControl,
    deviceStates: telephony.deviceStates,
    sim: undefined,
    ivr,
    reverseLogon: deps.reverseLogon ?? ivr.reverseLogon,
    smsReplies,
    smsReceiver,
    gateway,
  };
}

export class Platform {
  readonly services: Services;
  readonly http: WebServer;
  readonly web: WebMount;
  readonly metrics: PrometheusMetrics;
  private readonly startedAt: number;
  private stopping: Promise<void> | undefined;
  private boundUrl: string | undefined;
  private disconnect: (() => void) | undefined;

  get callControl(): CallControl {
    return this.services.callControl;
  }

  get deviceStates(): DeviceStateSource {
    return this.services.deviceStates;
  }

  get sim(): Simulator | undefined {
    return this.services.sim;
  }

  constructor(deps: PlatformDeps) {
    const metrics = new PrometheusMetrics();
    this.metrics = metrics;
    this.services = buildServices({ ...deps, metrics, baseUrl: () => this.boundUrl ?? publicUrl(deps.config) });
    this.startedAt = this.services.clock.now();
    const { config, log, store, telephony } = this.services;
    this.http = createWebServer({
      log: log.child({ part: 'web' }),
      bodyLimitBytes: config.http.bodyLimitBytes,
      wsMaxPayloadBytes: config.presence.maxMessageBytes * 6 + 4096,
      maxUrlBytes: config.http.maxUrlBytes,
      maxHeaderBytes: config.http.maxHeaderBytes,
    });
    const usesAmi = config.telephony.ari.url === undefined || config.telephony.ami.host !== undefined;
    this.http.register(
      opsPlugin({
        health: async () => ({
          status: 'ok' as const,
          version: VERSION,
          node: config.presence.nodeId,
          schema: await store.status.schemaVersion(),
          uptimeSeconds: Math.round((this.services.clock.now() - this.startedAt) / 1000),
        }),
        readiness: async () => ({
          database: await store.status.isWritable(),
          ari: telephony.callControl.isConnected,
          ...(usesAmi ? { ami: telephony.deviceStates.isLoggedIn } : {}),
        }),
        metrics: () => metrics.text(),
        metricsToken: config.http.metricsToken,
      }),
    );
    this.http.register(audioPlugin(this.services.audio));
    this.web = mountWeb(this.http, this.services, store.replyLinks);
    this.http.register(
      new AdminView({
        services: this.services,
        sessions: this.web.sessions,
        metrics: () => metrics.registry.getMetricsAsJSON(),
      }).plugin(),
    );
    this.http.register(
      federationPlugin({
        federation: this.services.federation,
        store: this.services.federationStore,
        config,
        clock: this.services.clock,
        log: log.child({ part: 'federation' }),
        userOf: async (request) => {
          const r = await this.web.sessions.resolve(request);
          if (r.kind !== 'ok') throw new AppError('WEB_UNAUTHORIZED', 'log in first');
          return r.auth.user.id;
        },
      }),
    );
    metrics.observe({
      callsActive: () => this.services.ivr.activeCalls,
      webSockets: () => this.web.ws.clients,
      connected: (link) =>
        link === 'ari' ? telephony.callControl.isConnected : usesAmi ? telephony.deviceStates.isLoggedIn : undefined,
      reconnects: (link) =>
        Math.max(0, (link === 'ari' ? telephony.callControl.connections : telephony.deviceStates.logins) - 1),
    });
  }

  /** True once start() has brought every part up, the ARI application last; false again when stopping. */
  get isReady(): boolean {
    return this.ready;
  }

  private ready = false;

  /**
   * Starts every part; returns the HTTP base URL. The ARI application is
   * registered last, once the store, accounts, presence, audio and the IVR
   * are up (and the demo seeded), so that the first call Asterisk hands over
   * meets a platform that knows its caller; until then Asterisk's dialplan
   * says the service is unavailable. The notifier, which calls out, follows.
   */
  async start(): Promise<string> {
    const { telephony, presence, notifier, ivr, config, log } = this.services;
    await telephony.start();
    this.services.sim = telephony.sim;
    // The dev phone shows the words of each prompt it plays (as the demo log does).
    if (this.services.sim)
      this.services.sim.captions = (uri) => this.services.audio.textFor(uri.replace(/^sound:/, ''));
    await this.services.accounts.warmUp();
    await this.services.audio.ready();
    await this.http.listen({ host: config.http.host, port: config.http.port }).catch((e: unknown) => {
      throw portError(e, 'http.port');
    });
    const port = this.http.port;
    const url = publicUrl(config, port);
    this.boundUrl = url;
    notifier.setBaseUrl(url);
    await presence.start();
    await presence.objects.start(url);
    await this.services.federation.start();
    this.disconnect = await connectParts({
      ...this.services,
      isRemote: (userId) => this.services.federation.isRemote(userId),
      log: log.child({ part: 'wiring' }),
      prerender: (message, recipientId) => ivr.prerender(message, recipientId),
      recover: {
        sinceMs: config.notify.recoverHours * 3600_000,
        limit: config.notify.recoverMaxMessages,
        now: this.services.clock.now(),
      },
    });
    ivr.start();
    await this.services.gateway?.start();
    if (config.demo) await seedDemo(this.services, this.sim);
    await telephony.startCalls();
    await notifier.start();
    // Replies to pages sent before a restart still come back: bind while their codes live.
    if (config.notify.smsReplies.enabled && (await this.services.smsReplies.hasLiveCodes()))
      this.services.smsReceiver.ensure();
    this.ready = true;
    log.info({ url, dataDir: resolve(config.dataDir) }, 'platform started');
    return url;
  }

  /** Stops every part, the ARI application first: no call is taken by a platform going down. */
  async stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.ready = false;
      await this.services.ivr.stop();
      await this.services.telephony.stopCalls();
      this.disconnect?.();
      await this.services.federation.stop();
      this.web.close();
      await this.services.gateway?.stop();
      this.services.presence.objects.stop();
      await this.services.presence.stop();
      await this.http.close();
      await this.services.notifier.stop();
      await this.services.smsReceiver.stop();
      await this.services.telephony.stop();
      await this.services.audio.close();
      await this.services.store.close();
      this.services.log.info('platform stopped');
    })();
    return this.stopping;
  }
}
