/**
 * The Metrics port kept in prom-client, exposed as Prometheus text at GET
 * /metrics. Each platform has its own registry (several run in one test
 * process); the process figures (CPU, memory, event-loop lag, GC) come from
 * prom-client's default collectors. Every name starts with `phoneim_`.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CallOutcome, LogonChannel, LogonOutcome, Metrics, ObservedState } from './metrics.js';

const LINKS = ['ari', 'ami'] as const;

export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private state: Partial<ObservedState> = {};
  private readonly calls: Counter<'direction'>;
  private readonly callsEnded: Counter<'direction' | 'outcome'>;
  private readonly keyLatency: Histogram;
  private readonly logons: Counter<'channel' | 'result'>;
  private readonly stored: Counter<'kind'>;
  private readonly delivered: Counter<'link'>;
  private readonly deliveryLatency: Histogram;
  private readonly alerts: Counter;
  private readonly steps: Counter<'kind' | 'outcome'>;
  private readonly cache: Counter<'result'>;
  private readonly synth: Histogram<'engine'>;
  /** Children bound to their labels, made once: the delivery path reports every message. */
  private readonly deliveredBy = new Map<string, Counter.Internal>();
  private readonly storedBy = new Map<string, Counter.Internal>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'phoneim_' });
    const self = this;
    new Gauge({
      name: 'phoneim_calls_active',
      help: 'Calls the IVR is running now (inbound and reverse log-on).',
      registers,
      collect() {
        this.set(self.state.callsActive?.() ?? 0);
      },
    });
    this.calls = new Counter({
      name: 'phoneim_calls_started_total',
      help: 'Calls the IVR took (inbound) or placed (reverse log-on).',
      labelNames: ['direction'],
      registers,
    });
    this.callsEnded = new Counter({
      name: 'phoneim_calls_ended_total',
      help: 'Calls ended, by how: hangup (the caller), completed (the flow), gave-up (no valid key), failed.',
      labelNames: ['direction', 'outcome'],
      registers,
    });
    this.keyLatency = new Histogram({
      name: 'phoneim_key_to_playback_seconds',
      help: "From a caller's key to the start of the playback that answers it.",
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
      registers,
    });
    this.logons = new Counter({
      name: 'phoneim_logons_total',
      help: 'Log-on attempts (web and API passwords, phone PINs), by result.',
      labelNames: ['channel', 'result'],
      registers,
    });
    this.stored = new Counter({
      name: 'phoneim_messages_stored_total',
      help: 'Messages committed to the message cache.',
      labelNames: ['kind'],
      registers,
    });
    this.delivered = new Counter({
      name: 'phoneim_messages_delivered_total',
      help: "Messages handed to a recipient's link (live or replayed when the link opened).",
      labelNames: ['link'],
      registers,
    });
    this.deliveryLatency = new Histogram({
      name: 'phoneim_delivery_latency_seconds',
      help: "From a message's commit to its hand-over to a recipient's open link.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.alerts = new Counter({
      name: 'phoneim_alerts_opened_total',
      help: 'Alerts the notifier opened for recipients without a link.',
      registers,
    });
    this.steps = new Counter({
      name: 'phoneim_alert_steps_total',
      help: 'Steps of escalation ladders performed, by device kind and outcome.',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.cache = new Counter({
      name: 'phoneim_speech_cache_total',
      help: 'Speech cache look-ups, by result (hit or miss).',
      labelNames: ['result'],
      registers,
    });
    this.synth = new Histogram({
      name: 'phoneim_synthesis_seconds',
      help: 'Time a speech engine took to render one text.',
      labelNames: ['engine'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 30],
      registers,
    });
    new Gauge({
      name: 'phoneim_websockets_open',
      help: 'Open WebSocket connections of web and API clients.',
      registers,
      collect() {
        this.set(self.state.webSockets?.() ?? 0);
      },
    });
    new Gauge({
      name: 'phoneim_telephony_connected',
      help: 'Whether the connection to Asterisk is up (1) or down (0), for ARI and AMI; absent when not used.',
      labelNames: ['link'],
      registers,
      collect() {
        this.reset();
        for (const link of LINKS) {
          const up = self.state.connected?.(link);
          if (up !== undefined) this.set({ link }, up ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'phoneim_telephony_reconnects',
      help: 'Connections to Asterisk made after the first (ARI and AMI) since start.',
      labelNames: ['link'],
      registers,
      collect() {
        for (const link of LINKS) this.set({ link }, self.state.reconnects?.(link) ?? 0);
      },
    });
  }

  observe(state: Partial<ObservedState>): void {
    this.state = { ...this.state, ...state };
  }

  callStarted(direction: 'inbound' | 'outbound'): void {
    this.calls.inc({ direction });
  }

  callEnded(direction: 'inbound' | 'outbound', outcome: CallOutcome): void {
    this.callsEnded.inc({ direction, outcome });
  }

  keyToPlayback(seconds: number): void {
    this.keyLatency.observe(seconds);
  }

  logon(channel: LogonChannel, result: LogonOutcome): void {
    this.logons.inc({ channel, result });
  }

  messageStored(kind: 'text' | 'voice'): void {
    let c = this.storedBy.get(kind);
    if (!c) {
      c = this.stored.labels({ kind });
      this.storedBy.set(kind, c);
    }
    c.inc();
  }

  messageDelivered(linkKind: string, latencySeconds?: number): void {
    let c = this.deliveredBy.get(linkKind);
    if (!c) {
      c = this.delivered.labels({ link: linkKind });
      this.deliveredBy.set(linkKind, c);
    }
    c.inc();
    if (latencySeconds !== undefined) this.deliveryLatency.observe(Math.max(0, latencySeconds));
  }

  alertOpened(): void {
    this.alerts.inc();
  }

  alertStep(kind: string, outcome: string): void {
    this.steps.inc({ kind, outcome });
  }

  speechCache(isHit: boolean): void {
    this.cache.inc({ result: isHit ? 'hit' : 'miss' });
  }

  synthesis(engine: string, seconds: number): void {
    this.synth.observe({ engine }, seconds);
  }

  /** The Prometheus text exposition of every figure. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
