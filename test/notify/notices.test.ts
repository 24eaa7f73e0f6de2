/**
 * Pages and emails in the recipient's language: the notices catalogue is
 * complete in every language, and a Spanish-speaking recipient (who chose
 * Spanish through the API) gets a Spanish page, with its reply invitation,
 * and a Spanish email.
 */
import t from 'tap';
import { SUPPORTED_LANGUAGES } from '../../src/core/language.js';
import { emailText, pageText } from '../../src/notify/compose.js';
import { NOTICE_CATALOGUES } from '../../src/notify/notices.js';
import { eventually } from '../support/env.js';
import { startSmsCentre, startSmtp } from '../support/notify.js';
import { ApiClient, befriend, startPlatform } from '../support/presence.js';

t.test('every language has every notice, translated', async (t) => {
  const en = NOTICE_CATALOGUES.en as unknown as Record<string, unknown>;
  const said = (v: unknown) => (typeof v === 'function' ? (v as (...a: unknown[]) => string)('7', 'Ana') : v);
  for (const lang of SUPPORTED_LANGUAGES) {
    const c = NOTICE_CATALOGUES[lang] as unknown as Record<string, unknown>;
    t.same(Object.keys(c).sort(), Object.keys(en).sort(), `${lang}: every notice`);
    for (const key of Object.keys(en)) {
      const text = said(c[key]);
      t.ok(typeof text === 'string' && text.trim(), `${lang}: ${key}`);
      if (lang !== 'en' && !['testTag'].includes(key)) t.not(text, said(en[key]), `${lang}: ${key} is translated`);
    }
  }
});

t.test('a page and an email composed in German and French', async (t) => {
  const m = { id: 'm1', sessionId: 's', fromUserId: 1, fromName: 'Ana', fromSpokenName: 'Ana', text: 'Hallo!' };
  const messages = [
    { ...m, alertId: 'a', addedAt: 0, at: Date.UTC(2026, 2, 3, 9, 5) },
    { ...m, id: 'm2', alertId: 'a', addedAt: 0, at: Date.UTC(2026, 2, 3, 9, 6) },
  ];
  t.equal(
    pageText(messages, { maxChars: 160, language: 'de', replyCode: '4821', callbackNumber: '+49 30 1234' }),
    'Ana: Hallo! (+1 weitere) Rufen Sie +49 30 1234 an, um zuzuhören und zu antworten. Antworten Sie 4821 + Ihren Text, um Ana zu antworten.',
  );
  const short = pageText([{ ...messages[0], text: 'x'.repeat(300) } as (typeof messages)[0]], {
    maxChars: 60,
    replyCode: '4821',
  });
  t.ok(short.endsWith(' Reply 4821 + your text to answer Ana.'), `the reply invitation arrives whole: ${short}`);
  t.ok(short.length <= 60);
  const mail = emailText(messages, {
    recipientName: 'Luc',
    timeZone: 'Europe/Paris',
    replyUrl: 'https://x/r',
    isTest: false,
    maxMessages: 1,
    language: 'fr',
  });
  t.equal(mail.subject, '2 nouveaux messages de Ana');
  t.match(mail.text, /^Bonjour Luc,\n\n2 messages vous attendent :\n\n\.\.\. et 1 autre message avant ceux-ci/);
  t.match(mail.text, /Ana \(3 mars, 10:06\):/);
  t.match(mail.text, /Répondre sur le web : https:\/\/x\/r/);
});

t.test("a Spanish-speaking recipient's page and email are in Spanish", async (t) => {
  const centre = await startSmsCentre({ systemId: 'phoneim', password: 'secret' });
  t.teardown(centre.close);
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const { platform, url } = await startPlatform(t, {
    overrides: {
      notify: {
        collectDelaySeconds: 0,
        waitAfterPageSeconds: 0,
        smtp: { port: smtp.port },
        smpp: { port: centre.port, password: 'secret', timeoutMs: 5000 },
      },
    },
  });
  const { accounts } = platform.services;
  const alice = await accounts.createUser({ username: 'alice', displayName: 'Alice', password: 'correct horse' });
  const bob = await accounts.createUser({ username: 'bob', displayName: 'Bob', password: 'correct horse' });
  await befriend(platform, [alice.id, bob.id]);
  await accounts.addDevice('bob', { kind: 'pager', address: '+15550104444', protocol: 'smpp' });
  await accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });

  const bobApi = await ApiClient.login(url, 'bob');
  const bad = await bobApi.call('PUT', '/api/v1/me/language', { language: 'tlh' });
  t.equal(bad.status, 400);
  t.match(bad.body, { error: { code: 'ACCOUNTS_LANGUAGE_UNSUPPORTED' } });
  const set = await bobApi.call('PUT', '/api/v1/me/language', { language: 'es' });
  t.equal(set.status, 200);
  t.same(set.body, { language: 'es' });
  await bobApi.call('POST', '/api/v1/logout');

  const aliceApi = await ApiClient.login(url, 'alice');
  const created = await aliceApi.call('POST', '/api/v1/sessions', { invitees: ['bob'] });
  const sessionId = (created.body as { id: string }).id;
  await aliceApi.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Are you free at 3?' });

  const page = await eventually(() => {
    const m = centre.messages[0];
    if (!m) throw new Error('no page yet');
    return m;
  });
  t.match(page.text, /^Alice: Are you free at 3\? Responda \d{4} \+ su texto para contestar a Alice\.$/);
  await eventually(() => {
    if (smtp.mails.length === 0) throw new Error('no email yet');
  });
  const mail = smtp.mails[0];
  t.equal(mail?.subject, 'Nuevo mensaje de Alice');
  t.match(mail?.text, /^Hola, Bob:\n\nAlice le envió un mensaje mientras no estaba:/);
  t.match(mail?.text, /Responda en la web: http/);
});
