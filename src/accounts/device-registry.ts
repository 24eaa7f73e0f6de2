/**
 * The device registry's rules: what a phone, pager or email device may look
 * like, and when a device is in its quiet hours (in the user's time zone;
 * a window may run over midnight, like 22:00-07:00).
 */
import { AppError } from '../core/errors.js';
import { checkText } from '../core/sanitize.js';
import { normalizeNumber, type NumberingPlan } from './phone-number.js';
import type { Device, DeviceKind, PagerProtocol } from './types.js';
import type { NewDeviceRow } from './ports.js';

export interface DeviceInput {
  kind: string;
  address: string;
  protocol?: string | undefined;
  label?: string | undefined;
  /** 'HH:MM-HH:MM' */
  quietHours?: string | undefined;
  /** Phones only: 'PJSIP/bob-desk' (a device) or '201@phoneim-hints' (a hint). */
  asteriskDevice?: string | undefined;
}

const bad = (field: string, message: string) => new AppError('ACCOUNTS_INVALID_INPUT', message, { field });

const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function checkEmail(value: unknown): string {
  const text = checkText(value, { field: 'email address', maxChars: 254 });
  if (!EMAIL.test(text)) throw bad('email address', `"${text}" is not an email address`);
  return text;
}

const ASTERISK_DEVICE = /^[A-Za-z][A-Za-z0-9]{0,15}[/:][A-Za-z0-9_.+-]{1,64}$/;
const ASTERISK_HINT = /^[A-Za-z0-9_*#+.-]{1,40}@[A-Za-z0-9_-]{1,40}$/;

/** An Asterisk device ('PJSIP/bob-desk', 'Custom:lamp') or hint ('201@phoneim-hints'), as AMI names it. */
export function checkAsteriskDevice(value: unknown): string {
  const text = checkText(value, { field: 'asterisk device', maxChars: 81 });
  if (!ASTERISK_DEVICE.test(text) && !ASTERISK_HINT.test(text))
    throw bad(
      'asterisk device',
      `"${text}" is neither an Asterisk device (PJSIP/bob-desk) nor a hint (201@phoneim-hints)`,
    );
  return text;
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

export function parseQuietHours(value: string): { start: string; end: string } {
  const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(value.trim());
  if (!m) throw bad('quiet hours', `quiet hours "${value}" must look like 22:00-07:00`);
  const start = `${m[1]}:${m[2]}`;
  const end = `${m[3]}:${m[4]}`;
  if (start === end) throw bad('quiet hours', 'quiet hours must not start and end at the same time');
  return { start, end };
}

export function checkDevice(input: DeviceInput, plan: NumberingPlan): NewDeviceRow {
  const kind = input.kind as DeviceKind;
  if (!['phone', 'pager', 'email'].includes(kind))
    throw bad('kind', `device kind must be phone, pager or email, not "${input.kind}"`);
  let protocol: PagerProtocol | null = null;
  let address: string;
  if (kind === 'phone') address = normalizeNumber(input.address, plan);
  else if (kind === 'email') address = checkEmail(input.address);
  else {
    protocol = (input.protocol ?? 'snpp') as PagerProtocol;
    if (!['snpp', 'smpp', 'email'].includes(protocol))
      throw bad('protocol', `pager protocol must be snpp, smpp or email, not "${input.protocol}"`);
    if (protocol === 'smpp') address = normalizeNumber(input.address, plan);
    else if (protocol === 'email') address = checkEmail(input.address);
    else {
      address = checkText(input.address, { field: 'pager id', maxChars: 32 });
      if (!/^[A-Za-z0-9_.-]+$/.test(address))
        throw bad('pager id', 'an SNPP pager id may hold letters, digits, dot, dash and underscore');
    }
  }
  if (kind !== 'pager' && input.protocol !== undefined) throw bad('protocol', 'only pagers have a protocol');
  const d = deviceDetails(kind, input);
  return {
    kind,
    address,
    protocol,
    label: d.label ?? null,
    quietStart: d.quietStart ?? null,
    quietEnd: d.quietEnd ?? null,
    asteriskDevice: d.asteriskDevice ?? null,
  };
}

export type DeviceDetails = Partial<Pick<NewDeviceRow, 'label' | 'quietStart' | 'quietEnd' | 'asteriskDevice'>>;

/**
 * A device's details, checked, for a new device or a change: a field left out stays out, null clears it.
 * Only phones have an Asterisk device.
 */
export function deviceDetails(
  kind: DeviceKind,
  p: {
    label?: string | null | undefined;
    quietHours?: string | null | undefined;
    asteriskDevice?: string | null | undefined;
  },
): DeviceDetails {
  const out: DeviceDetails = {};
  if (p.label !== undefined) out.label = p.label === null ? null : checkText(p.label, { field: 'label', maxChars: 40 });
  if (p.quietHours !== undefined) {
    const q = p.quietHours === null ? null : parseQuietHours(p.quietHours);
    out.quietStart = q?.start ?? null;
    out.quietEnd = q?.end ?? null;
  }
  if (p.asteriskDevice !== undefined) {
    if (p.asteriskDevice !== null && kind !== 'phone')
      throw bad('asterisk device', 'only phones have an Asterisk device');
    out.asteriskDevice = p.asteriskDevice === null ? null : checkAsteriskDevice(p.asteriskDevice);
  }
  return out;
}

/** Minutes since local midnight at `at` in `timeZone`. */
export function localMinutes(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const h = Number(parts.find((p) => p.type === 'hour')?.value);
  const m = Number(parts.find((p) => p.type === 'minute')?.value);
  return h * 60 + m;
}

export function isQuiet(device: Pick<Device, 'quietStart' | 'quietEnd'>, timeZone: string, at: number): boolean {
  if (!device.quietStart || !device.quietEnd) return false;
  const now = localMinutes(at, timeZone);
  const start = minutes(device.quietStart);
  const end = minutes(device.quietEnd);
  return start < end ? now >= start && now < end : now >= start || now < end;
}
