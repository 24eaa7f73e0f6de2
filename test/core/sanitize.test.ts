import t from 'tap';
import { checkText, codePoints } from '../../src/core/sanitize.js';

t.test('characters are counted as a reader counts them: one for an emoji, one per combining mark', async (t) => {
  const samples = [
    '',
    'hello',
    'héllo',
    'e\u0301',
    '😀',
    'a😀b😀',
    '👩‍👩‍👧',
    '\u{10FFFF}',
    'x'.repeat(1000),
    '日本語のテキスト',
    '\uD83D', // a lone high surrogate
    '\uDE00a', // a lone low surrogate
    'a\uD83D',
    '\uD83D\uD83D\uDE00',
  ];
  for (const s of samples) t.equal(codePoints(s), [...s].length, JSON.stringify(s));
});

t.test('the length limits count characters, not UTF-16 units', async (t) => {
  const rule = { field: 'text', maxChars: 3 };
  t.equal(checkText('😀😀😀', rule), '😀😀😀', 'three emoji are three characters');
  t.throws(() => checkText('😀😀😀😀', rule), {
    code: 'ACCOUNTS_INVALID_INPUT',
    message: 'text is longer than 3 characters',
  });
  t.throws(() => checkText('  ', { field: 'name', maxChars: 5 }), { message: 'name is empty' });
  t.throws(() => checkText('ab', { field: 'pin', maxChars: 5, minChars: 3 }), {
    message: 'pin is shorter than 3 characters',
  });
});
