/**
 * The operator's view from outside. Carol is an operator (phonectl grants
 * her the role while the platform runs); Bob is not and gets 403. Alice
 * writes to Bob, who has no link: the notifier calls Bob's phone, which the
 * simulator's callee does not answer, then mails him (the mail server
 * says "try later" once). Carol's page in
 * Chromium, refreshed by its own script, shows the ladder move: the call in
 * progress, the call failed with the email next, the email delivered.
 * Actions need the CSRF token; a refused one changes nothing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import t from 'tap';
import { phonectl } from '../support/cli.js';
import { eventually } from '../support/env.js';
import { startSmtp } from '../support/notify.js';
import { ApiClient, befriend, HtmlClient, makeUsers, startPlatform } from '../support/presence.js';
import { testStoreEnv } from '../support/store-backend.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];
const CALLEE = '+15550100199';

t.setTimeout(120_000);
if (!existsSync(CHROMIUM)) t.fail(`${CHROMIUM} is missing (make os-deps installs it)`);

t.test('operators only; the ladder moves on the page; actions need CSRF', async (t) => {
  const root = t.testdir({ data: {}, profile: {} });
  const dir = join(root, 'data');
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const { platform, url } = await startPlatform(t, {
    dir,
    overrides: {
      presence: { pageRefreshSeconds: 2 },
      ivr: { amdListenSeconds: 0 },
      notify: {
        smtp: { port: smtp.port },
        collectDelaySeconds: 0,
        ringSeconds: 5,
        retryDelaySeconds: 4,
      },
    },
  });
  const { alice, bob } = await makeUsers(platform, ['alice', 'bob', 'carol']);
  await befriend(platform, [alice, bob]);
  const { accounts } = platform.services;
  await accounts.addDevice('bob', { kind: 'phone', address: CALLEE });
  await accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });
  const sim = platform.sim;
  if (!sim) throw new Error('no simulator');
  await eventually(() => platform.callControl.isConnected || Promise.reject(new Error('ARI not up')));
  const callee = sim.setCallee(CALLEE, { behavior: 'no-answer' });
  // The mail server turns the first try away for a while: the email step waits for its second try.
  smtp.failNext.push({ code: 451, message: 'try again later' });

  // Nobody logged in: the log-in form. Bob: 403. Carol before and after phonectl grants her the role.
  const anon = new HtmlClient(url);
  await anon.get('/admin');
  t.equal(new URL(anon.url).pathname, '/login');
  const bobPage = new HtmlClient(url);
  await bobPage.login('bob');
  await bobPage.get('/admin');
  t.equal(bobPage.status, 403, 'a user without the role is refused');
  t.match(bobPage.page, /data-code="WEB_ADMIN_ONLY"/);
  t.notMatch(bobPage.page, /Operator’s view<\/h1>/);
  // Bob leaves: with no link of his, a message to him starts his ladder.
  await bobPage.get('/buddies');
  await bobPage.post('/logout', {});
  const carolPage = new HtmlClient(url);
  await carolPage.login('carol');
  await carolPage.get('/buddies');
  t.notMatch(carolPage.page, /href="\/admin"/, 'no link to the view before the role');
  // phonectl on the platform's store (its SQLite file, or its PostgreSQL database under PHONEIM_TEST_STORE=postgres).
  const granted = await phonectl(dir, await testStoreEnv(dir))(['user', 'set-admin', 'carol', 'on']);
  t.equal(granted.code, 0, granted.stderr);
  t.match(granted.stdout, /carol is an admin/);
  await carolPage.get('/buddies');
  t.match(carolPage.page, /<a href="\/admin">Operator’s view<\/a>/);
  await carolPage.get('/admin');
  t.equal(carolPage.status, 200);
  t.match(carolPage.page, /No alerts in progress\./);

  // A caller from an unknown number dials in: the call shows, with its caller, state and time, until it ends.
  const caller = sim.placeCall({ from: '+15550177', to: '100' });
  await eventually(async () => {
    await carolPage.get('/admin');
    if (!carolPage.page.includes('<td class="call-state">logon')) throw new Error('no call in log-on yet');
  });
  t.match(
    carolPage.page,
    /<td>\+15550177<\/td><td>–<\/td><td>in<\/td><td class="call-state">logon<\/td><td><time datetime="[^"]+">\d\d:\d\d<\/time><\/td>/,
  );
  await caller.hangup();
  await eventually(async () => {
    await carolPage.get('/admin');
    if (!carolPage.page.includes('No calls right now.')) throw new Error('the call still shows');
  });

  // Carol watches in a browser with JavaScript on.
  const ctx = await chromium.launchPersistentContext(join(root, 'profile'), {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
  });
  t.teardown(() => ctx.close());
  ctx.setDefaultTimeout(20_000);
  const page = await ctx.newPage();
  await page.goto(`${url}/login`);
  await page.fill('input[name=username]', 'carol');
  await page.fill('input[name=password]', 'correct horse');
  await page.click('button[type=submit]');
  await page.waitForURL((u) => u.pathname !== '/login');
  await page.goto(`${url}/admin`);
  await page.waitForSelector('html[data-live="on"]');
  await page.evaluate(() => {
    (globalThis as unknown as { marker: number }).marker = 7;
  });

  // Alice writes; Bob has no link: the ladder starts with a call nobody answers.
  const aliceApi = await ApiClient.login(url, 'alice');
  const sessionId = ((await aliceApi.call('POST', '/api/v1/sessions', { invitees: ['bob'] })).body as { id: string })
    .id;
  await aliceApi.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Are you there?' });

  const step = (n: number, state: string) => `#alerts li[data-step="${n}"][data-state="${state}"]`;
  await page.waitForSelector(step(1, 'in-progress'));
  t.match(await page.textContent('#alerts li.alert'), /To bob, 1 message\(s\), opened \d\d:\d\d: running/);
  t.ok(await page.isVisible(step(2, 'scheduled')), 'the email waits its turn');
  await page.waitForSelector(step(1, 'failed'));
  t.match(await page.textContent(`#alerts li[data-step="1"]`), /1\. call \+15550100199: failed \(no-answer\)/);
  t.match(await page.textContent(`#alerts li[data-step="2"]`), /2\. email bob@example\.com: (scheduled|in progress)/);
  t.equal(callee.attempts.length, 1, 'the callee was rung once');
  // The email goes out; the alert ends and shows among recent failures (its call failed), ladder and all.
  await page.waitForSelector('#failures li[data-step="2"][data-state="delivered"]');
  await eventually(() => smtp.mails.length === 1 || Promise.reject(new Error('no mail yet')));
  t.match(await page.textContent('#failures li[data-step="1"]'), /failed/);
  t.match(await page.textContent('#alerts'), /No alerts in progress\./);
  t.equal(
    await page.evaluate(() => (globalThis as unknown as { marker: number }).marker),
    7,
    'all of it without reloading the page',
  );
  t.ok(Number(await page.getAttribute('html', 'data-refreshed')) >= 2, 'the script refreshed the view');
  t.match(await page.textContent('[data-figure="alerts-opened"]'), /^1$/);
  t.match(await page.textContent('[data-figure="steps-delivered"]'), /^1$/);

  // Retry the ended alert: without the CSRF token nothing happens; with it the failed call runs again.
  const alertId = (await page.getAttribute('#failures li.alert', 'data-alert')) as string;
  await carolPage.get('/admin');
  await carolPage.post(`/admin/alerts/${alertId}/retry`, {}, { csrf: 'forged' });
  t.equal(carolPage.status, 403);
  t.match(carolPage.page, /data-code="WEB_CSRF_FAILED"/);
  t.equal((await platform.services.notifier.show(alertId)).state, 'done', 'nothing changed');
  await bobPage.login('bob');
  await bobPage.post(`/admin/alerts/${alertId}/retry`, {});
  t.equal(bobPage.status, 403, 'Bob cannot act either');
  // Bob's page made him a web link again: drop it so the retried call is not cancelled by his presence.
  await bobPage.get('/buddies');
  await bobPage.post('/logout', {});
  await carolPage.get('/admin');
  await carolPage.post(`/admin/alerts/${alertId}/retry`, {});
  t.equal(new URL(carolPage.url).pathname, '/admin');
  await page.waitForSelector(`#alerts li.alert[data-alert="${alertId}"]`);
  await carolPage.get('/admin');
  const csrf = carolPage.csrf();
  await carolPage.post(`/admin/alerts/${alertId}/cancel`, {});
  t.equal(carolPage.status, 200);
  await eventually(async () =>
    (await platform.services.notifier.show(alertId)).state === 'cancelled'
      ? true
      : Promise.reject(new Error('not cancelled')),
  );
  // Cancelling again is refused with its code, and says so.
  await carolPage.post(`/admin/alerts/${alertId}/cancel`, {}, { csrf });
  t.equal(carolPage.status, 409);
  t.match(carolPage.page, /data-code="NOTIFY_ALERT_ENDED"/);
});
