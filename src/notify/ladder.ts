/**
 * The escalation ladder of one user, built from the device registry.
 *
 * Rules:
 * - Default: every device whose kind is in `notify.ladderKinds`, in the
 *   registry's order (the user orders the registry with `device order`).
 *   Phones are called (reverse log-on), pagers paged, email addresses mailed.
 * - A user's own ladder (set with `alert ladder`) names device ids in order,
 *   each with an optional wait; a device removed since is left out.
 * - After each step the ladder waits (per kind, from config, or the user's own
 *   wait) for the recipient to show up before the next step.
 * - Quiet hours are checked when a step comes due, not when the ladder is
 *   built: a device in its quiet hours at its turn is skipped, and the ladder
 *   moves on at once.
 */
import { isQuiet } from '../accounts/device-registry.js';
import type { Device } from '../accounts/types.js';
import type { Config } from '../core/config.js';
import type { LadderOverride, PlannedStep, StepChannel } from './types.js';

export const channelOf = (d: Pick<Device, 'kind'>): StepChannel =>
  d.kind === 'phone' ? 'call' : d.kind === 'pager' ? 'page' : 'email';

export function defaultWaitMs(config: Config['notify'], channel: StepChannel): number {
  const s =
    channel === 'call'
      ? config.waitAfterCallSeconds
      : channel === 'page'
        ? config.waitAfterPageSeconds
        : config.waitAfterEmailSeconds;
  return s * 1000;
}

const plan = (d: Device, waitMs: number): PlannedStep => ({
  channel: channelOf(d),
  deviceId: d.id,
  protocol: d.protocol,
  address: d.address,
  waitMs,
  quietStart: d.quietStart,
  quietEnd: d.quietEnd,
});

export function buildLadder(
  devices: Device[],
  override: LadderOverride[] | null,
  config: Config['notify'],
): PlannedStep[] {
  if (override) {
    const byId = new Map(devices.map((d) => [d.id, d]));
    const out: PlannedStep[] = [];
    for (const o of override) {
      const d = byId.get(o.deviceId);
      if (!d) continue;
      out.push(plan(d, o.waitSeconds !== undefined ? o.waitSeconds * 1000 : defaultWaitMs(config, channelOf(d))));
    }
    return out;
  }
  return [...devices]
    .sort((a, b) => a.position - b.position)
    .filter((d) => config.ladderKinds.includes(d.kind))
    .map((d) => plan(d, defaultWaitMs(config, channelOf(d))));
}

/** True when the step's device is in its quiet hours at `at` in the user's time zone. */
export function stepIsQuiet(
  step: { quietStart: string | null; quietEnd: string | null },
  timeZone: string,
  at: number,
): boolean {
  return isQuiet(step, timeZone, at);
}
