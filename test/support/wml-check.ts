/**
 * A small WML 1.1 checker for tests: the document must be well-formed XML,
 * declare the WML 1.1 doctype, use only WML 1.1 elements and their
 * attributes, respect the content models that matter to a WAP browser (what
 * a card, a paragraph, a link, a task may hold), and use "$" only as WML
 * variable syntax. Returns the list of problems (empty when the deck is good).
 */

const CORE = ['id', 'class', 'xml:lang'];
const INLINE = [
  'em',
  'strong',
  'b',
  'i',
  'u',
  'big',
  'small',
  'br',
  'img',
  'anchor',
  'a',
  'table',
  'input',
  'select',
  'fieldset',
  'do',
];
const TEXT = '#text';

interface Spec {
  children: string[];
  attrs: string[];
  required?: string[];
  empty?: boolean;
}

const SPECS: Record<string, Spec> = {
  wml: { children: ['head', 'template', 'card'], attrs: ['xml:lang'] },
  head: { children: ['access', 'meta'], attrs: CORE },
  template: { children: ['do', 'onevent'], attrs: [...CORE, 'onenterforward', 'onenterbackward', 'ontimer'] },
  access: { children: [], attrs: [...CORE, 'domain', 'path'], empty: true },
  meta: {
    children: [],
    attrs: [...CORE, 'http-equiv', 'name', 'forua', 'content', 'scheme'],
    required: ['content'],
    empty: true,
  },
  card: {
    children: ['onevent', 'timer', 'do', 'p'],
    attrs: [...CORE, 'title', 'newcontext', 'ordered', 'onenterforward', 'onenterbackward', 'ontimer'],
  },
  do: {
    children: ['go', 'prev', 'noop', 'refresh'],
    attrs: [...CORE, 'type', 'label', 'name', 'optional'],
    required: ['type'],
  },
  onevent: { children: ['go', 'prev', 'noop', 'refresh'], attrs: [...CORE, 'type'], required: ['type'] },
  go: {
    children: ['postfield', 'setvar'],
    attrs: [...CORE, 'href', 'sendreferer', 'method', 'accept-charset'],
    required: ['href'],
  },
  prev: { children: ['setvar'], attrs: CORE },
  refresh: { children: ['setvar'], attrs: CORE },
  noop: { children: [], attrs: CORE, empty: true },
  postfield: { children: [], attrs: [...CORE, 'name', 'value'], required: ['name', 'value'], empty: true },
  setvar: { children: [], attrs: [...CORE, 'name', 'value'], required: ['name', 'value'], empty: true },
  timer: { children: [], attrs: [...CORE, 'name', 'value'], required: ['value'], empty: true },
  p: { children: [TEXT, ...INLINE], attrs: [...CORE, 'align', 'mode'] },
  br: { children: [], attrs: CORE, empty: true },
  img: {
    children: [],
    attrs: [...CORE, 'alt', 'src', 'localsrc', 'vspace', 'hspace', 'align', 'height', 'width'],
    required: ['alt', 'src'],
    empty: true,
  },
  a: { children: [TEXT, 'br', 'img'], attrs: [...CORE, 'href', 'title'], required: ['href'] },
  anchor: { children: [TEXT, 'br', 'img', 'go', 'prev', 'refresh'], attrs: [...CORE, 'title'] },
  input: {
    children: [],
    attrs: [...CORE, 'name', 'type', 'value', 'format', 'emptyok', 'size', 'maxlength', 'tabindex', 'title'],
    required: ['name'],
    empty: true,
  },
  select: {
    children: ['optgroup', 'option'],
    attrs: [...CORE, 'title', 'name', 'value', 'iname', 'ivalue', 'multiple', 'tabindex'],
  },
  optgroup: { children: ['optgroup', 'option'], attrs: [...CORE, 'title'] },
  option: { children: [TEXT, 'onevent'], attrs: [...CORE, 'value', 'title', 'onpick'] },
  fieldset: { children: [TEXT, 'fieldset', ...INLINE], attrs: [...CORE, 'title'] },
  table: { children: ['tr'], attrs: [...CORE, 'title', 'align', 'columns'], required: ['columns'] },
  tr: { children: ['td'], attrs: CORE },
  td: { children: [TEXT, 'em', 'strong', 'b', 'i', 'u', 'big', 'small', 'br', 'img', 'anchor', 'a'], attrs: CORE },
};
for (const style of ['em', 'strong', 'b', 'i', 'u', 'big', 'small'])
  SPECS[style] = { children: [TEXT, ...INLINE], attrs: CORE };

export const WML11_DOCTYPE =
  '<!DOCTYPE wml PUBLIC "-//WAPFORUM//DTD WML 1.1//EN" "http://www.wapforum.org/DTD/wml_1.1.xml">';

const NAME = /^[A-Za-z_:][A-Za-z0-9._:-]*/;
const ENTITY = /^&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/;
// $$ is a literal dollar; $name and $(name) or $(name:escape) are variables.
const DOLLAR = /^\$(\$|[A-Za-z_][A-Za-z0-9_]*|\([A-Za-z_][A-Za-z0-9_]*(:(e|escape|n|noesc|u|unesc))?\))/;

// XML 1.0's Char production: what is outside it makes the whole document ill-formed.
const XML_ILLEGAL = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function checkWml(doc: string): string[] {
  const problems: string[] = [];
  const illegal = XML_ILLEGAL.exec(doc);
  if (illegal)
    problems.push(`a character XML forbids (U+${(illegal[0].codePointAt(0) ?? 0).toString(16).toUpperCase()})`);
  let i = 0;
  const stack: { name: string; children: string[] }[] = [];
  let root: string | null = null;

  const text = (s: string, where: string) => {
    for (let k = 0; k < s.length; k++) {
      const ch = s[k];
      if (ch === '<') problems.push(`raw "<" in ${where}`);
      if (ch === '&' && !ENTITY.test(s.slice(k))) problems.push(`bare "&" in ${where}: ${s.slice(k, k + 12)}`);
    }
    const decoded = s.replace(/&amp;/g, '&');
    for (let k = 0; k < decoded.length; k++) {
      if (decoded[k] !== '$') continue;
      const m = DOLLAR.exec(decoded.slice(k));
      if (!m) problems.push(`"$" that is not WML variable syntax in ${where}: ${decoded.slice(k, k + 12)}`);
      else k += m[0].length - 1;
    }
  };

  let s = doc;
  if (s.startsWith('\ufeff')) s = s.slice(1);
  if (s.startsWith('<?xml')) {
    const end = s.indexOf('?>');
    if (end < 0) return ['unterminated XML declaration'];
    i = end + 2;
  }
  const skipSpace = () => {
    while (i < s.length && /\s/.test(s[i] as string)) i++;
  };
  skipSpace();
  if (!s.startsWith(WML11_DOCTYPE, i)) problems.push('missing or wrong WML 1.1 doctype');
  else i += WML11_DOCTYPE.length;

  while (i < s.length) {
    if (s.startsWith('<!--', i)) {
      const end = s.indexOf('-->', i + 4);
      if (end < 0) return [...problems, 'unterminated comment'];
      i = end + 3;
      continue;
    }
    if (s[i] === '<') {
      const end = s.indexOf('>', i);
      if (end < 0) return [...problems, 'unterminated tag'];
      const raw = s.slice(i + 1, end);
      i = end + 1;
      if (raw.startsWith('/')) {
        const name = raw.slice(1).trim();
        const top = stack.pop();
        if (!top || top.name !== name) return [...problems, `</${name}> closes <${top?.name ?? 'nothing'}>`];
        continue;
      }
      const selfClosing = raw.endsWith('/');
      const body = selfClosing ? raw.slice(0, -1) : raw;
      const m = NAME.exec(body);
      if (!m) return [...problems, `bad tag <${raw.slice(0, 20)}>`];
      const name = m[0];
      const spec = SPECS[name];
      if (!spec) problems.push(`<${name}> is not a WML 1.1 element`);
      // attributes
      let rest = body.slice(name.length);
      const seen = new Set<string>();
      for (;;) {
        const ws = /^\s*/.exec(rest)?.[0] ?? '';
        rest = rest.slice(ws.length);
        if (rest === '') break;
        if (ws === '') return [...problems, `<${name}>: attributes must be separated by spaces`];
        const a = /^([A-Za-z_:][A-Za-z0-9._:-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(rest);
        if (!a) return [...problems, `<${name}>: malformed attribute near ${rest.slice(0, 20)}`];
        const attr = a[1] as string;
        if (seen.has(attr)) problems.push(`<${name}> repeats ${attr}`);
        seen.add(attr);
        if (spec && !spec.attrs.includes(attr)) problems.push(`<${name}> has no attribute ${attr} in WML 1.1`);
        text(a[3] ?? a[4] ?? '', `<${name} ${attr}>`);
        rest = rest.slice(a[0].length);
      }
      for (const r of spec?.required ?? []) if (!seen.has(r)) problems.push(`<${name}> needs ${r}`);
      const parent = stack.at(-1);
      if (parent) {
        const ps = SPECS[parent.name];
        if (ps && !ps.children.includes(name)) problems.push(`<${parent.name}> may not contain <${name}>`);
        parent.children.push(name);
      } else if (root) return [...problems, 'more than one root element'];
      else root = name;
      if (!selfClosing) {
        if (spec?.empty) problems.push(`<${name}> must be empty`);
        stack.push({ name, children: [] });
      }
      continue;
    }
    const next = s.indexOf('<', i);
    const chunk = s.slice(i, next < 0 ? s.length : next);
    i = next < 0 ? s.length : next;
    if (chunk.trim() === '') continue;
    const parent = stack.at(-1);
    if (!parent) return [...problems, 'text outside the root element'];
    const ps = SPECS[parent.name];
    if (ps && !ps.children.includes(TEXT)) problems.push(`<${parent.name}> may not contain text`);
    text(chunk, `<${parent.name}> text`);
  }
  if (stack.length > 0) problems.push(`<${stack.at(-1)?.name}> is never closed`);
  if (root !== 'wml') problems.push('the root element must be <wml>');
  return problems;
}

/** WML 1.1 card structure the checker also insists on: onevent*, timer?, (do|p)*. */
export function cardOrderProblems(doc: string): string[] {
  const out: string[] = [];
  for (const card of doc.matchAll(/<card\b[^>]*>([\s\S]*?)<\/card>/g)) {
    const kids = [...(card[1] as string).matchAll(/<(onevent|timer|do|p)\b/g)].map((m) => m[1]);
    let phase = 0;
    for (const k of kids) {
      const p = k === 'onevent' ? 0 : k === 'timer' ? 1 : 2;
      if (p < phase) out.push(`<${k}> after ${['onevent', 'timer', 'do/p'][phase]} in a card`);
      phase = Math.max(phase, p === 1 ? 2 : p);
    }
  }
  return out;
}
