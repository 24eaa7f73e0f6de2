/**
 * The thin client's pages for phones that browse through a WAP or UP.Link
 * gateway: one page model (a card of lines made of text, links, posts and
 * fields) rendered as a WML 1.1 deck or as an HDML 3.0 deck.
 *
 * Rules:
 * - Both renderings carry the same text; only what each language needs
 *   differs. WML puts fields inline; HDML 3.0 has no inline fields, so a
 *   field is a link to an ENTRY card (a text field) or a CHOICE card (a
 *   list) that sets the variable and comes back.
 * - A post's fields may name a variable (`{ var: 'nu' }`), sent as `$(nu)`;
 *   every other value is escaped, "$" doubled (both languages substitute
 *   variables in text and attributes).
 * - HDML decks are written as well-formed markup: quoted attributes, every
 *   element closed except the empty BR and ACTION.
 */
import { escapeWml } from './markup.js';

export type WapValue = string | { var: string };

export type WapPart =
  | string
  | { bold: string }
  | { link: string; href: string }
  | { post: string; href: string; fields: Record<string, WapValue> }
  | { input: string; title: string; maxlength: number; value?: string; isPassword?: boolean }
  | { select: string; title: string; options: [value: string, label: string][] };

/** A line is parts; a paragraph is lines. */
export interface WapCard {
  id: string;
  title: string;
  /** The card reloads itself (WML timer). */
  reload?: { seconds: number; href: string };
  /** Variables emptied when the card is entered (WML), so a field does not keep what was sent. */
  clearOnEnter?: string[];
  paragraphs: WapPart[][][];
}

export const WML_HEAD =
  '<?xml version="1.0"?>\n<!DOCTYPE wml PUBLIC "-//WAPFORUM//DTD WML 1.1//EN" "http://www.wapforum.org/DTD/wml_1.1.xml">\n';

const e = escapeWml;

const fieldValue = (v: WapValue): string => (typeof v === 'string' ? e(v) : `$(${v.var})`);

function wmlPart(p: WapPart): string {
  if (typeof p === 'string') return e(p);
  if ('bold' in p) return `<b>${e(p.bold)}</b>`;
  if ('link' in p) return `<a href="${e(p.href)}">${e(p.link)}</a>`;
  if ('post' in p)
    return `<anchor>${e(p.post)}<go method="post" href="${e(p.href)}">${Object.entries(p.fields)
      .map(([k, v]) => `<postfield name="${e(k)}" value="${fieldValue(v)}"/>`)
      .join('')}</go></anchor>`;
  if ('input' in p)
    return `<input name="${e(p.input)}"${p.isPassword ? ' type="password"' : ''}${p.value !== undefined ? ` value="${e(p.value)}"` : ''} maxlength="${p.maxlength}"/>`;
  return `<select name="${e(p.select)}">${p.options.map(([v, l]) => `<option value="${e(v)}">${e(l)}</option>`).join('')}</select>`;
}

export function renderWml(card: WapCard): string {
  const clear = card.clearOnEnter?.length
    ? `<onevent type="onenterforward"><refresh>${card.clearOnEnter.map((n) => `<setvar name="${e(n)}" value=""/>`).join('')}</refresh></onevent>`
    : '';
  const timer = card.reload ? `<timer value="${card.reload.seconds * 10}"/>` : '';
  const paragraphs = card.paragraphs
    .map((lines) => `<p>${lines.map((parts) => parts.map(wmlPart).join('')).join('<br/>\n')}</p>`)
    .join('');
  const ontimer = card.reload ? ` ontimer="${e(card.reload.href)}"` : '';
  return `${WML_HEAD}<wml>\n<card id="${e(card.id)}" title="${e(card.title)}"${ontimer}>${clear}${timer}${paragraphs}</card>\n</wml>\n`;
}

/** A post's fields as HDML POSTDATA: form-encoded, variables left for the browser to fill in. */
function postData(fields: Record<string, WapValue>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${e(encodeURIComponent(k))}=${typeof v === 'string' ? e(encodeURIComponent(v)) : `$(${v.var})`}`)
    .join('&amp;');
}

export function renderHdml(card: WapCard): string {
  const extra: string[] = [];
  const back = `#${e(card.id)}`;
  const part = (p: WapPart): string => {
    if (typeof p === 'string') return e(p);
    if ('bold' in p) return e(p.bold);
    if ('link' in p) return `<A TASK="GO" DEST="${e(p.href)}">${e(p.link)}</A>`;
    if ('post' in p)
      return `<A TASK="GO" METHOD="POST" DEST="${e(p.href)}" POSTDATA="${postData(p.fields)}">${e(p.post)}</A>`;
    if ('input' in p) {
      const name = `f-${p.input}`;
      extra.push(
        `<ENTRY NAME="${e(name)}" KEY="${e(p.input)}"${p.value !== undefined ? ` DEFAULT="${e(p.value)}"` : ''}${p.isPassword ? ' NOECHO="TRUE"' : ''} EMPTYOK="TRUE"><ACTION TYPE="ACCEPT" TASK="GO" DEST="${back}">${e(p.title)}:</ENTRY>`,
      );
      return `<A TASK="GO" DEST="#${e(name)}">[${e(p.title)}]</A>`;
    }
    const name = `f-${p.select}`;
    extra.push(
      `<CHOICE NAME="${e(name)}" KEY="${e(p.select)}">${e(p.title)}:${p.options
        .map(([v, l]) => `<CE TASK="GO" DEST="${back}" VALUE="${e(v)}">${e(l)}</CE>`)
        .join('')}</CHOICE>`,
    );
    return `<A TASK="GO" DEST="#${e(name)}">[${e(p.title)}]</A>`;
  };
  const lines = card.paragraphs.map((ls) => ls.map((parts) => parts.map(part).join('')).join('<BR>\n')).join('<BR>\n');
  return `<HDML VERSION="3.0" TTL="0">\n<DISPLAY NAME="${e(card.id)}" TITLE="${e(card.title)}">\n${lines}\n</DISPLAY>\n${extra.join('\n')}${extra.length ? '\n' : ''}</HDML>\n`;
}
