/** What a page and an email say, whatever the users typed. */
import t from 'tap';
import { emailText, oneLine, pageText } from '../../src/notify/compose.js';
import type { AlertMessage } from '../../src/notify/types.js';

const m = (fromName: string, text: string, extra: Partial<AlertMessage> = {}): AlertMessage => ({
  alertId: 'a',
  id: `${fromName}-${text}`,
  sessionId: 's',
  fromUserId: 1,
  fromName,
  fromSpokenName: fromName,
  text,
  at: Date.UTC(2026, 0, 1, 9, 30),
  addedAt: 0,
  ...extra,
});

t.test('a page names the senders, shows a snippet and the number, and fits', async (t) => {
  t.equal(pageText([], { maxChars: 160 }), '');
  t.equal(pageText([m('Ann', '', { audioId: 'v1' })], { maxChars: 160 }), 'Ann: (voice message)');
  t.equal(pageText([m('Ann', '   ')], { maxChars: 160 }), 'Ann: (no text)');
  t.equal(
    pageText([m('Ann', 'one'), m('Bo', 'two'), m('Cy', 'three')], { maxChars: 160, callbackNumber: '+1 555 0100' }),
    'Ann and 2 others: one (+2 more) Call +1 555 0100 to listen and reply.',
  );
  t.equal(pageText([m('Ann', 'one'), m('Bo', 'two')], { maxChars: 160 }), 'Ann and Bo: one (+1 more)');
  const long = pageText([m('Ann\r\nX', 'word '.repeat(100))], { maxChars: 60, callbackNumber: '+1 555 0100' });
  t.ok(long.length <= 60, long);
  t.match(long, /^Ann X: word .*\.\.\. Call \+1 555 0100 to listen and reply\.$/);
  t.equal(oneLine('a\u0000b\u2028c\td', 100), 'a b c d');
  t.equal(oneLine('abcdef', 5), 'ab...');
});

t.test('an email keeps line breaks of the message and nothing else', async (t) => {
  const e = emailText([m('Ann', 'line 1\r\nline 2\u0007'), m('Bo', '', { audioId: 'v' })], {
    recipientName: 'Bob\r\nBcc: x',
    timeZone: 'Europe/Paris',
    replyUrl: 'https://im.example.com/reply?t=x',
    isTest: false,
  });
  t.equal(e.subject, '2 new messages from Ann, Bo');
  t.match(e.text, /^Hello Bob Bcc: x,\n/);
  t.match(e.text, /Ann \(1 Jan, 10:30\):\n {2}line 1\n {2}line 2 \n/);
  t.match(e.text, /Bo \(1 Jan, 10:30\):\n {2}\[voice message: the recording is attached\]/);
  t.notMatch(e.text, /Or call/);
});
