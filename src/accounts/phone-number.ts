/**
 * Caller-ID normalisation to E.164 ("+" and up to 15 digits), the form in
 * which numbers are stored and compared. Accepts what callers and admins
 * write: international ("+44 20 7946 0958", "011 44 ..."), national with or
 * without the trunk prefix ("(555) 010-0101", "1 555 010 0101"), and local
 * numbers when an area code is configured.
 */
import type { Config } from '../core/config.js';
import { AppError } from '../core/errors.js';
import { checkText } from '../core/sanitize.js';

export type NumberingPlan = Config['phone'];

const fail = (input: string, why: string) =>
  new AppError('ACCOUNTS_INVALID_INPUT', `phone number "${input}" ${why}`, { field: 'phone number' });

export function normalizeNumber(input: unknown, plan: NumberingPlan): string {
  const raw = checkText(input, { field: 'phone number', maxChars: 32 });
  if (!/^\+?[\d\s().-]+$/.test(raw)) throw fail(raw, 'may only contain digits, spaces, ( ) . - and a leading +');
  const digits = raw.replace(/\D/g, '');
  let e164: string;
  if (raw.startsWith('+')) e164 = digits;
  else if (digits.startsWith(plan.internationalPrefix)) e164 = digits.slice(plan.internationalPrefix.length);
  else {
    const nsnLength = plan.nationalNumberLength;
    let national: string | undefined;
    if (digits.length === nsnLength) national = digits;
    else if (plan.nationalPrefix && digits.startsWith(plan.nationalPrefix)) {
      const rest = digits.slice(plan.nationalPrefix.length);
      if (rest.length === nsnLength) national = rest;
    }
    if (national === undefined && plan.areaCode && digits.length + plan.areaCode.length === nsnLength)
      national = plan.areaCode + digits;
    if (national === undefined) throw fail(raw, 'is not a local, national or international number');
    e164 = plan.countryCode + national;
  }
  if (e164.length < 8 || e164.length > 15) throw fail(raw, 'must have 8 to 15 digits in international form');
  if (e164.startsWith('0')) throw fail(raw, 'has no valid country code');
  return `+${e164}`;
}

/** Caller ID as Asterisk presents it may be empty, "anonymous" or a name: null when unusable. */
export function callerIdOrNull(input: string | undefined, plan: NumberingPlan): string | null {
  if (!input) return null;
  try {
    return normalizeNumber(input, plan);
  } catch {
    return null;
  }
}
