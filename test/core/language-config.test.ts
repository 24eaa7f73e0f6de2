/** The `language` and `notify.smsReplies` config sections: documented defaults; bad values stop start-up, named. */
import t from 'tap';
import { loadConfig } from '../../src/core/config.js';
import { isAppError } from '../../src/core/errors.js';

const failure = (overrides: Record<string, unknown>): string => {
  try {
    loadConfig({ env: {}, overrides });
  } catch (e) {
    if (isAppError(e, 'CORE_CONFIG_INVALID')) return e.message;
    throw e;
  }
  throw new Error('expected a configuration error');
};

t.test('defaults', async (t) => {
  const c = loadConfig({ env: {} });
  t.same(c.language, {
    default: 'en',
    detectMessages: true,
    detectMinLetters: 20,
    detectMinLead: 0.05,
    messageLanguages: ['en', 'es', 'fr', 'de', 'it', 'pt', 'nl'],
    voices: {},
  });
  t.match(c.notify.smsReplies, { enabled: true, codeDigits: 4, ttlSeconds: 86400, politePerSenderPerHour: 3 });
  t.match(c.audio.voices.sayjs, { engine: 'sayjs', voice: 'default' });
  t.equal(loadConfig({ env: { PHONEIM_LANGUAGE__DEFAULT: 'es-MX' } }).language.default, 'es-MX');
});

t.test('bad language settings are refused and named', async (t) => {
  t.match(
    failure({ language: { default: 'it' } }),
    /language\.default is invalid: must be a BCP 47 tag of en, es, fr or de/,
  );
  t.match(failure({ language: { voices: { de: 'nope' } } }), /language\.voices\.de is invalid: names no voice "nope"/);
  t.match(failure({ language: { messageLanguages: ['english'] } }), /language\.messageLanguages\.0 is invalid/);
  t.match(failure({ language: { colour: 1 } }), /language\.colour is not a known key/);
  t.match(failure({ notify: { smsReplies: { codeDigits: 2 } } }), /notify\.smsReplies\.codeDigits is invalid/);
});
