/**
 * Reading decks as a test sees them: a small parser for HDML 3.0 (and WML,
 * which is XML) that checks well-formedness - quoted attributes, every
 * element closed but the empty BR and ACTION, only known entities, "$" only
 * as variable syntax - and returns the element tree, plus the text a phone
 * would show on a card.
 */

export interface El {
  name: string;
  attrs: Record<string, string>;
  children: (El | string)[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** What the phone shows: entities decoded and "$$" as "$" (variable references are left as they are). */
function decode(text: string, problems: string[]): string {
  return text.replace(/\$\$/g, '$').replace(/&(#\d+|[a-z]+);|&/g, (m, ref: string | undefined) => {
    if (!ref) {
      problems.push('a bare "&"');
      return m;
    }
    if (ref.startsWith('#')) return String.fromCodePoint(Number(ref.slice(1)));
    const v = ENTITIES[ref];
    if (v === undefined) problems.push(`unknown entity &${ref};`);
    return v ?? m;
  });
}

/** "$" must be "$$" or a variable reference. */
function checkDollars(raw: string, problems: string[]): void {
  const rest = raw.replace(/\$\$|\$\([A-Za-z_][A-Za-z0-9_]*\)/g, '');
  if (rest.includes('$')) problems.push(`a "$" that is not variable syntax in ${JSON.stringify(raw.slice(0, 60))}`);
}

/**
 * Parses markup into elements. `voids` are the names that may stand without
 * a closing tag (HDML: BR and ACTION); `<x/>` closes itself (WML).
 */
export function parseDeck(text: string, voids: string[] = []): { root: El | null; problems: string[] } {
  const problems: string[] = [];
  const top: El = { name: '#top', attrs: {}, children: [] };
  const stack: El[] = [top];
  const body = text.replace(/^<\?xml[^>]*\?>\s*/, '').replace(/^<!DOCTYPE[^>]*>\s*/, '');
  const tag =
    /<(\/?)([A-Za-z][A-Za-z0-9:-]*)((?:\s+[A-Za-z][A-Za-z0-9:-]*\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))*)\s*(\/?)>/g;
  let at = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const between = body.slice(at, m.index);
    if (between.includes('<')) problems.push(`unparsable markup near ${JSON.stringify(between.slice(0, 40))}`);
    const current = stack[stack.length - 1] as El;
    if (between.trim() !== '') {
      checkDollars(between, problems);
      current.children.push(decode(between, problems));
    }
    at = tag.lastIndex;
    const [, closing, name = '', rawAttrs = '', selfClose] = m;
    if (closing) {
      const open = stack.pop();
      if (!open || open.name !== name) {
        problems.push(`</${name}> closes <${open?.name ?? 'nothing'}>`);
        if (open) stack.push(open);
      }
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs.matchAll(/([A-Za-z][A-Za-z0-9:-]*)\s*=\s*("([^"]*)"|'([^']*)'|([^\s"'>]+))/g)) {
      const key = a[1] as string;
      if (a[5] !== undefined) problems.push(`<${name}> attribute ${key} is not quoted`);
      const raw = a[3] ?? a[4] ?? a[5] ?? '';
      if (key in attrs) problems.push(`<${name}> repeats ${key}`);
      checkDollars(raw, problems);
      attrs[key] = decode(raw, problems);
    }
    const el: El = { name, attrs, children: [] };
    current.children.push(el);
    if (!selfClose && !voids.includes(name)) stack.push(el);
  }
  const tail = body.slice(at);
  if (tail.trim() !== '') problems.push(`text after the root: ${JSON.stringify(tail.slice(0, 40))}`);
  if (stack.length > 1)
    problems.push(
      `never closed: ${stack
        .slice(1)
        .map((e) => e.name)
        .join(', ')}`,
    );
  const roots = top.children.filter((c): c is El => typeof c !== 'string');
  if (roots.length !== 1) problems.push(`${roots.length} root elements`);
  return { root: roots[0] ?? null, problems };
}

const HDML_ELEMENTS: Record<string, { attrs: string[]; children: string[] }> = {
  HDML: {
    attrs: ['VERSION', 'TTL', 'PUBLIC', 'MARKABLE'],
    children: ['DISPLAY', 'CHOICE', 'ENTRY', 'NODISPLAY', 'ACTION'],
  },
  DISPLAY: { attrs: ['NAME', 'TITLE', 'MARKABLE', 'BOOKMARK'], children: ['#text', 'A', 'BR', 'ACTION'] },
  CHOICE: { attrs: ['NAME', 'TITLE', 'KEY', 'DEFAULT', 'IKEY', 'METHOD'], children: ['#text', 'CE', 'BR', 'ACTION'] },
  ENTRY: {
    attrs: ['NAME', 'TITLE', 'KEY', 'DEFAULT', 'FORMAT', 'NOECHO', 'EMPTYOK'],
    children: ['#text', 'BR', 'ACTION'],
  },
  CE: { attrs: ['TASK', 'DEST', 'VALUE', 'METHOD', 'POSTDATA', 'LABEL', 'VARS'], children: ['#text'] },
  A: { attrs: ['TASK', 'DEST', 'METHOD', 'POSTDATA', 'LABEL', 'VARS', 'RECEIVE', 'RETVALS'], children: ['#text'] },
  ACTION: { attrs: ['TYPE', 'TASK', 'DEST', 'METHOD', 'POSTDATA', 'LABEL', 'VARS'], children: [] },
  BR: { attrs: [], children: [] },
};

/** Problems of an HDML 3.0 deck (empty when good), and its tree. */
export function checkHdml(text: string): { root: El | null; problems: string[] } {
  const { root, problems } = parseDeck(text, ['BR', 'ACTION']);
  if (!root) return { root, problems };
  if (root.name !== 'HDML') problems.push(`the root is <${root.name}>, not <HDML>`);
  if (root.attrs.VERSION !== '3.0') problems.push('the deck does not say VERSION="3.0"');
  const names = new Set<string>();
  const walk = (el: El) => {
    const spec = HDML_ELEMENTS[el.name];
    if (!spec) {
      problems.push(`<${el.name}> is not an HDML 3.0 element`);
      return;
    }
    for (const a of Object.keys(el.attrs))
      if (!spec.attrs.includes(a)) problems.push(`<${el.name}> has no attribute ${a}`);
    if (['DISPLAY', 'CHOICE', 'ENTRY'].includes(el.name)) {
      if (!el.attrs.NAME) problems.push(`a <${el.name}> card without NAME`);
      else if (names.has(el.attrs.NAME)) problems.push(`two cards named ${el.attrs.NAME}`);
      else names.add(el.attrs.NAME);
    }
    for (const c of el.children) {
      const kind = typeof c === 'string' ? '#text' : c.name;
      if (!spec.children.includes(kind)) problems.push(`<${el.name}> may not contain ${kind}`);
      if (typeof c !== 'string') walk(c);
    }
  };
  walk(root);
  // Every link within the deck names a card that exists.
  const dests: string[] = [];
  const collect = (el: El) => {
    if (el.attrs.DEST?.startsWith('#')) dests.push(el.attrs.DEST.slice(1));
    for (const c of el.children) if (typeof c !== 'string') collect(c);
  };
  collect(root);
  for (const d of dests) if (!names.has(d)) problems.push(`a link to #${d}, which is no card of the deck`);
  return { root, problems };
}

/** Elements named `name` anywhere below `el`. */
export function findAll(el: El, name: string): El[] {
  const out: El[] = [];
  for (const c of el.children)
    if (typeof c !== 'string') {
      if (c.name === name) out.push(c);
      out.push(...findAll(c, name));
    }
  return out;
}

/** The text of an element, whitespace collapsed; `skip` leaves out the elements it accepts (and their text). */
export function textOf(el: El, skip: (e: El) => boolean = () => false): string {
  const parts: string[] = [];
  const walk = (x: El) => {
    for (const c of x.children) {
      if (typeof c === 'string') parts.push(c);
      else if (c.name === 'br' || c.name === 'BR') parts.push(' ');
      else if (!skip(c)) {
        // A paragraph is a line break too.
        if (c.name === 'p') parts.push(' ');
        walk(c);
        if (c.name === 'p') parts.push(' ');
      }
    }
  };
  walk(el);
  return parts.join('').replace(/\s+/g, ' ').trim();
}
