/**
 * Boundary checks shared by every capability: text that will be stored,
 * shown, spoken or put in a header is checked once, where it enters.
 */
import { AppError, type ErrorCode } from './errors.js';

// C0/C1 controls and DEL; line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// A lone surrogate, or the replacement character left by decoding bytes that were not UTF-8.
const NOT_UTF8 = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|\ufffd/;

export interface TextRule {
  /** The field's name, as the user knows it ("display name"). */
  field: string;
  maxChars: number;
  minChars?: number;
  /** Allow line breaks (\n); other control characters are always refused. */
  multiline?: boolean;
  code?: ErrorCode;
}

/** How many characters (code points) a string holds, as [...s].length counts them, without making the array. */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** Returns the text trimmed and NFC-normalised, or throws a coded error that names the field. */
export function checkText(value: unknown, rule: TextRule): string {
  const code = rule.code ?? 'ACCOUNTS_INVALID_INPUT';
  if (typeof value !== 'string') throw new AppError(code, `${rule.field} must be text`, { field: rule.field });
  if (NOT_UTF8.test(value)) throw new AppError(code, `${rule.field} is not valid UTF-8`, { field: rule.field });
  const text = value.normalize('NFC').trim();
  const probe = rule.multiline ? text.replace(/\r?\n/g, '') : text;
  if (CONTROL.test(probe)) throw new AppError(code, `${rule.field} contains control characters`, { field: rule.field });
  const min = rule.minChars ?? 1;
  const length = codePoints(text);
  if (length < min)
    throw new AppError(code, min === 1 ? `${rule.field} is empty` : `${rule.field} is shorter than ${min} characters`, {
      field: rule.field,
    });
  if (length > rule.maxChars)
    throw new AppError(code, `${rule.field} is longer than ${rule.maxChars} characters`, { field: rule.field });
  return text;
}

/** DTMF as typed on a keypad: 0-9, *, #, A-D. Anything else is garbage and is dropped. */
export function cleanDtmf(value: string): string {
  return value.toUpperCase().replace(/[^0-9*#A-D]/g, '');
}
