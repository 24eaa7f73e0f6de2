/**
 * What an alert says: the page (short: who, a snippet, the number to call)
 * and the email (sender, every message, the reply link, the number). User
 * text (names, messages) is made safe here, once: nothing from a user can
 * break a mail header or an SNPP command line.
 */
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

const snippetOf = (m: Pick<AlertMessage, 'text' | 'audioId'>, max: number) =>
  m.text.trim() ? oneLine(m.text, max) : m.audioId ? '(voice message)' : '(no text)';

/** The senders, first to last, without repeats. */
export function senders(messages: AlertMessage[]): string[] {
  return [...new Set(messages.map((m) => oneLine(m.fromName, 60)))];
}

export interface PageOptions {
  callbackNumber?: string | undefined;
  maxChars: number;
}

/**
 * "Alice: are you free at 3? (+2 more) Call +1 555 0100 to listen and reply."
 * The call-back sentence is kept whole; the snippet is cut to fit.
 */
export function pageText(messages: AlertMessage[], o: PageOptions): string {
  const first = messages[0];
  if (!first) return '';
  const who = senders(messages);
  const from = who.length > 2 ? `${who[0]} and ${who.length - 1} others` : who.join(' and ');
  const more = messages.length > 1 ? ` (+${messages.length - 1} more)` : '';
  const tail = o.callbackNumber ? ` Call ${o.callbackNumber} to listen and reply.` : '';
  const head = `${from}: `;
  const room = Math.max(8, o.maxChars - head.length - more.length - tail.length);
  return oneLine(`${head}${snippetOf(first, room)}${more}${tail}`, o.maxChars);
}

export interface EmailParts {
  subject: string;
  text: string;
  /** The messages the text lists (the newest, at most `maxMessages`): the ones whose audio is attached. */
  listed: AlertMessage[];
}

function clock(at: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
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
  },
): EmailParts {
  const all = messages.length;
  const more = Math.max(0, all - (o.maxMessages ?? all));
  const listed = more > 0 ? messages.slice(-(o.maxMessages ?? all)) : messages;
  const who = senders(messages);
  const subject = oneLine(
    `${o.isTest ? '[test] ' : ''}${all === 1 ? 'New message' : `${all} new messages`} from ${who.join(', ')}`,
    150,
  );
  const lines: string[] = [`Hello ${oneLine(o.recipientName, 80)},`, ''];
  lines.push(all === 1 ? `${who[0]} sent you a message while you were away:` : `You have ${all} messages waiting:`);
  lines.push('');
  if (more > 0)
    lines.push(`... and ${more} more ${more === 1 ? 'message' : 'messages'} before these: read them on the web.`, '');
  for (const m of listed) {
    lines.push(`${oneLine(m.fromName, 60)} (${clock(m.at, o.timeZone)}):`);
    const body = m.text.trim() ? bodyText(m.text) : '';
    if (body) for (const l of body.split('\n')) lines.push(`  ${l}`);
    if (m.audioId) lines.push('  [voice message: the recording is attached]');
    lines.push('');
  }
  lines.push(`Reply on the web: ${o.replyUrl}`);
  if (o.callbackNumber) lines.push(`Or call ${o.callbackNumber} to listen and reply by phone.`);
  lines.push('', 'This link logs you straight in; do not forward this email.');
  return { subject, text: `${lines.join('\n')}\n`, listed };
}
