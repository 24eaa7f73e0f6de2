/**
 * What an alert says: the page (short: who, a snippet, the number to call)
 * and the email (sender, every message, the reply link, the number). User
 * text (names, messages) is made safe here, once: nothing from a user can
 * break a mail header or an SNPP command line.
 */
import { notices } from './notices.js';
import type { AlertMessage } from './types.js';

// C0/C1 controls, DEL, line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
// The same, less the line feed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROLS_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/** One line of plain text: every control character (CR, LF, TAB, NUL ...) becomes a space. */
export function oneLine(text: string, maxChars = 200): string {
  const s = text.normalize('NFC').replace(CONTROLS, ' ').replace(/\s+/g, ' ').trim();
  const chars = [...s];
  return chars.length <= maxChars
    ? s
    : `${chars
        .slice(0, Math.max(1, maxChars - 3))
        .join('')
        .trimEnd()}...`;
}

/** Text for a mail body: line breaks kept (as \n), other controls removed. */
export function bodyText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[\u2028\u2029]/g, '\n')
    .replace(CONTROLS_BUT_LF, ' ');
}

/** Plain ASCII for protocols that carry nothing else (SNPP): accents dropped, the rest as '?'. */
export function toAscii(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '?');
}

const snippetOf = (m: Pick<AlertMessage, 'text' | 'audioId'>, max: number, language?: string) => {
  const w = notices(language).words;
  return m.text.trim() ? oneLine(m.text, max) : m.audioId ? w.voiceMessage : w.noText;
};

/** The senders, first to last, without repeats. */
export function senders(messages: AlertMessage[]): string[] {
  return [...new Set(messages.map((m) => oneLine(m.fromName, 60)))];
}

export interface PageOptions {
  callbackNumber?: string | undefined;
  maxChars: number;
  /** The recipient's language (BCP 47); default English. */
  language?: string | undefined;
  /** An SMS reply code: the page invites a reply with it ("Reply 4821 + your text to answer Alice."). */
  replyCode?: string | undefined;
}

/**
 * "Alice: are you free at 3? (+2 more) Call +1 555 0100 to listen and reply."
 * The call-back and reply sentences are kept whole; the snippet is cut to fit.
 */
export function pageText(messages: AlertMessage[], o: PageOptions): string {
  const first = messages[0];
  if (!first) return '';
  const lang = notices(o.language);
  const w = lang.words;
  const who = senders(messages);
  const from = who.length > 2 ? `${who[0]} ${w.and} ${w.others(lang.n(who.length - 1))}` : who.join(` ${w.and} `);
  const more = messages.length > 1 ? ` ${w.more(lang.n(messages.length - 1))}` : '';
  const reply = o.replyCode ? ` ${w.replyWithCode(o.replyCode, oneLine(who[0] ?? '', 30))}` : '';
  const tail = `${o.callbackNumber ? ` ${w.callToReply(o.callbackNumber)}` : ''}${reply}`;
  const head = `${from}: `;
  const room = Math.max(8, o.maxChars - head.length - more.length - tail.length);
  const text = oneLine(`${head}${snippetOf(first, room, o.language)}${more}${tail}`, Math.max(o.maxChars, 1000));
  if ([...text].length <= o.maxChars) return text;
  // Too little room for all: the reply invitation is what must arrive whole.
  return reply
    ? `${oneLine(`${head}${snippetOf(first, 8, o.language)}`, Math.max(8, o.maxChars - reply.length))}${reply}`
    : oneLine(text, o.maxChars);
}

export interface EmailParts {
  subject: string;
  text: string;
  /** The messages the text lists (the newest, at most `maxMessages`): the ones whose audio is attached. */
  listed: AlertMessage[];
}

export function emailText(
  messages: AlertMessage[],
  o: {
    recipientName: string;
    timeZone: string;
    replyUrl: string;
    callbackNumber?: string | undefined;
    isTest: boolean;
    /** At most this many messages are listed (the newest); the others are counted. Default: all. */
    maxMessages?: number;
    /** The recipient's language (BCP 47); default English. */
    language?: string | undefined;
  },
): EmailParts {
  const lang = notices(o.language);
  const w = lang.words;
  const all = messages.length;
  const more = Math.max(0, all - (o.maxMessages ?? all));
  const listed = more > 0 ? messages.slice(-(o.maxMessages ?? all)) : messages;
  const who = senders(messages);
  const subject = oneLine(
    `${o.isTest ? `${w.testTag} ` : ''}${all === 1 ? w.subjectOne(who.join(', ')) : w.subjectMany(lang.n(all), who.join(', '))}`,
    150,
  );
  const lines: string[] = [w.hello(oneLine(o.recipientName, 80)), ''];
  lines.push(all === 1 ? w.sentWhileAway(who[0] as string) : w.waiting(lang.n(all)));
  lines.push('');
  if (more > 0) lines.push(w.moreBefore(lang.n(more), lang.plural(more)), '');
  for (const m of listed) {
    lines.push(`${oneLine(m.fromName, 60)} (${lang.clock(m.at, o.timeZone)}):`);
    const body = m.text.trim() ? bodyText(m.text) : '';
    if (body) for (const l of body.split('\n')) lines.push(`  ${l}`);
    if (m.audioId) lines.push(`  ${w.voiceAttached}`);
    lines.push('');
  }
  lines.push(w.replyOnWeb(o.replyUrl));
  if (o.callbackNumber) lines.push(w.orCall(o.callbackNumber));
  lines.push('', w.doNotForward);
  return { subject, text: `${lines.join('\n')}\n`, listed };
}
