import t from 'tap';
import { callerIdOrNull, normalizeNumber } from '../../src/accounts/phone-number.js';
import { loadConfig } from '../../src/core/config.js';

const nanp = loadConfig({ env: {}, overrides: { phone: { areaCode: '555' } } }).phone;
const uk = loadConfig({
  env: {},
  overrides: { phone: { countryCode: '44', nationalPrefix: '0', internationalPrefix: '00', nationalNumberLength: 10 } },
}).phone;

t.test('North American forms all become one E.164 number', async (t) => {
  for (const form of [
    '+1 555 010 0101',
    '+15550100101',
    '011 1 555 010 0101',
    '(555) 010-0101',
    '555.010.0101',
    '1-555-010-0101',
    '010-0101',
  ])
    t.equal(normalizeNumber(form, nanp), '+15550100101', form);
});

t.test('UK forms: national with trunk 0, international with 00 or +', async (t) => {
  for (const form of ['020 7946 0958', '+44 20 7946 0958', '0044 20 7946 0958'])
    t.equal(normalizeNumber(form, uk), '+442079460958', form);
  t.equal(
    normalizeNumber('00 33 1 23 45 67 89', uk),
    '+33123456789',
    'a foreign number through the international prefix',
  );
});

t.test('garbage is refused with a message that quotes it', async (t) => {
  const bad = [
    '',
    '   ',
    'abc',
    '555-CALL-NOW',
    '+',
    '12',
    '+0123456789',
    '+1234567890123456',
    '555\u0000123',
    'a\ufffdb',
    42,
  ];
  for (const input of bad)
    t.throws(() => normalizeNumber(input, nanp), { code: 'ACCOUNTS_INVALID_INPUT' }, JSON.stringify(input));
  t.throws(() => normalizeNumber('0101', nanp), /is not a local, national or international number/);
});

t.test('caller ID as Asterisk gives it: anonymous or empty is no number', async (t) => {
  t.equal(callerIdOrNull('anonymous', nanp), null);
  t.equal(callerIdOrNull(undefined, nanp), null);
  t.equal(callerIdOrNull('', nanp), null);
  t.equal(callerIdOrNull('5550100101', nanp), '+15550100101');
});
