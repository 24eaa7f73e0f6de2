import t from 'tap';
import {
  contactChoices,
  envelope,
  joinNames,
  messageCount,
  ordinalMessage,
  PROMPTS,
  promptText,
  spokenWhen,
  triesLeft,
} from '../../src/ivr/prompts.js';

t.test('message counts with the right grammar', async (t) => {
  t.equal(messageCount(0), 'You have no new messages.');
  t.equal(messageCount(1), 'You have 1 new message.');
  t.equal(messageCount(2), 'You have 2 new messages.');
  t.equal(messageCount(21), 'You have 21 new messages.');
  t.equal(triesLeft(1), 'You have 1 try left.');
  t.equal(triesLeft(2), 'You have 2 tries left.');
  t.same(
    [0, 1, 2].map((i) => ordinalMessage(i, 3)),
    ['First message.', 'Message 2.', 'Last message.'],
  );
  t.equal(ordinalMessage(0, 1), 'Message.');
});

t.test("envelopes are said in the listener's time zone", async (t) => {
  const now = Date.UTC(2026, 2, 10, 15, 0); // Tuesday 10 March 2026, 15:00 UTC
  const at = Date.UTC(2026, 2, 10, 14, 42);
  t.equal(envelope('Alice', at, now, 'UTC'), 'From Alice, today at 14:42.');
  t.equal(envelope('Alice', at, now, 'America/New_York'), 'From Alice, today at 10:42.');
  t.equal(
    spokenWhen(Date.UTC(2026, 2, 10, 3, 0), now, 'America/New_York'),
    'yesterday at 23:00',
    'still the 9th in New York',
  );
  t.equal(spokenWhen(Date.UTC(2026, 2, 9, 8, 5), now, 'UTC'), 'yesterday at 08:05');
  t.equal(spokenWhen(Date.UTC(2026, 2, 7, 9, 0), now, 'UTC'), 'on Saturday at 09:00');
  t.equal(spokenWhen(Date.UTC(2026, 1, 3, 9, 0), now, 'Europe/Berlin'), 'on February 3 at 10:00');
  t.equal(spokenWhen(at, now, 'Asia/Tokyo'), 'yesterday at 23:42', 'a clock ahead: past midnight there');
});

t.test('the catalogue', async (t) => {
  t.equal(promptText('goodbye'), PROMPTS.goodbye);
  t.throws(() => promptText('nope'), { code: 'IVR_PROMPT_UNKNOWN' });
  t.throws(() => promptText('toString'), { code: 'IVR_PROMPT_UNKNOWN' }, 'no prototype keys');
  for (const [id, text] of Object.entries(PROMPTS)) t.match(text, /^[A-Z].*[.?]$/, `${id} is a sentence`);
  t.equal(joinNames([]), 'nobody');
  t.equal(joinNames(['Alice', 'Carol', 'Dave']), 'Alice, Carol and Dave');
  t.equal(contactChoices(['Alice', 'Carol']), 'For Alice, press 1. For Carol, press 2.');
});
