/**
 * Escaping for the thin clients. Every piece of user text goes through one of
 * these on its way into a page; nothing is concatenated raw.
 */

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * What XML 1.0 forbids (outside its Char production: C0 controls but tab, CR
 * and LF; lone surrogates; U+FFFE and U+FFFF) and HTML calls parse errors.
 * Such a character in one message would make every WML deck that shows it
 * ill-formed, so none reaches a page: each becomes U+FFFD.
 */
const XML_ILLEGAL = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlSafe(value: string): string {
  return value.replace(XML_ILLEGAL, '\uFFFD');
}

/** Text or attribute value in HTML. */
export function escapeHtml(value: unknown): string {
  return xmlSafe(String(value ?? '')).replace(/[&<>"']/g, (c) => HTML[c] as string);
}

/**
 * Text or attribute value in WML 1.1: XML escaping, and "$" doubled because a
 * WML browser substitutes $(name) variables in text and attributes.
 */
export function escapeWml(value: unknown): string {
  return escapeHtml(value).replace(/\$/g, '$$$$');
}

/**
 * A moment as the reader reads it, in their time zone: "14:05" today,
 * "3 Mar 14:05" on another day of this year, "3 Mar 2025 14:05" before. `datetime` is the ISO form for <time>.
 */
export function readerTime(at: number, timeZone: string, now: number): { text: string; datetime: string } {
  const day = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: 'short', day: 'numeric' });
  const clock = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const sameDay = day.format(at) === day.format(now);
  const year = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric' });
  const date = year.format(at) === year.format(now) ? day.format(at).replace(/ \d+$/, '') : day.format(at);
  const text = sameDay ? clock.format(at) : `${date} ${clock.format(at)}`;
  return { text, datetime: new Date(at).toISOString() };
}

/** A length in ms as m:ss ("0:07"). */
export function clockDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The page language a client asks for: HDML (UP.Browser phones), WML (WAP phones) or HTML (the default). */
export function pageFormat(accept: string | undefined): 'html' | 'wml' | 'hdml' {
  if (!accept) return 'html';
  const q: Record<string, number> = { html: -1, wml: -1, hdml: -1 };
  for (const part of accept.toLowerCase().split(',')) {
    const [type, ...params] = part.trim().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const n = qParam ? Number(qParam.slice(2)) : 1;
    const quality = Number.isFinite(n) ? n : 0;
    const kind =
      type === 'text/x-hdml'
        ? 'hdml'
        : type === 'text/vnd.wap.wml'
          ? 'wml'
          : type === 'text/html' || type === 'application/xhtml+xml'
            ? 'html'
            : null;
    if (kind) q[kind] = Math.max(q[kind] as number, quality);
  }
  const { html, wml, hdml } = q as { html: number; wml: number; hdml: number };
  if (hdml > 0 && hdml >= html && hdml >= wml) return 'hdml';
  if (wml > 0 && wml >= html) return 'wml';
  return 'html';
}
