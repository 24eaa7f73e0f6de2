/**
 * What the capabilities report for the operators' dashboards, in the words of
 * the platform. A capability holds a `Metrics` and calls it where something
 * happens; only the Prometheus adapter (core/prometheus.ts) knows how the
 * figures are kept and exposed. Reporting never throws and never blocks.
 *
 * Gauges that are a count the platform already keeps (calls in progress, open
 * WebSockets, whether ARI and AMI are up) are read when scraped, through
 * `observe`, rather than reported on every change.
 */

/** How a call ended: hung up by the caller, ended by the flow, given up after the last try, or failed. */
export type CallOutcome = 'hangup' | 'completed' | 'gave-up' | 'failed';
export type LogonOutcome = 'ok' | 'bad-credentials' | 'locked' | 'unknown-caller';
export type LogonChannel = 'password' | 'pin';

/** Read at each scrape. */
export interface ObservedState {
  callsActive(): number;
  webSockets(): number;
  /** Whether the link is up; undefined when it is not used (no AMI host configured). */
  connected(link: 'ari' | 'ami'): boolean | undefined;
  /** Connections made after the first (a reconnect each). */
  reconnects(link: 'ari' | 'ami'): number;
}

export interface Metrics {
  callStarted(direction: 'inbound' | 'outbound'): void;
  callEnded(direction: 'inbound' | 'outbound', outcome: CallOutcome): void;
  /** From a caller's key to the start of the playback that answers it. */
  keyToPlayback(seconds: number): void;
  logon(channel: LogonChannel, result: LogonOutcome): void;
  messageStored(kind: 'text' | 'voice'): void;
  /** A message reached a recipient's link; `latencySeconds` from its commit, for live deliveries. */
  messageDelivered(linkKind: string, latencySeconds?: number): void;
  alertOpened(): void;
  alertStep(kind: string, outcome: string): void;
  speechCache(isHit: boolean): void;
  synthesis(engine: string, seconds: number): void;
  /** Gauges read at scrape time. */
  observe(state: Partial<ObservedState>): void;
}

/** Reports nowhere: the admin CLI and tests that do not look at figures. */
export const noMetrics: Metrics = {
  callStarted() {},
  callEnded() {},
  keyToPlayback() {},
  logon() {},
  messageStored() {},
  messageDelivered() {},
  alertOpened() {},
  alertStep() {},
  speechCache() {},
  synthesis() {},
  observe() {},
};
