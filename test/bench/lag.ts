/**
 * Event-loop lag as the benches report it: how late a timer of `resolutionMs`
 * fired, i.e. Node's event-loop delay histogram less the timer's own period
 * (the histogram records whole intervals, so an idle loop would otherwise read
 * as `resolutionMs` of lag).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface Lag {
  p50: number;
  p99: number;
  max: number;
}

/** Starts watching this process's event loop; stop() returns the lag in ms. */
export function watchLag(resolutionMs = 5): { stop(): Lag } {
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  const ms = (ns: number) => Math.max(0, ns / 1e6 - resolutionMs);
  return {
    stop() {
      h.disable();
      return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
    },
  };
}
