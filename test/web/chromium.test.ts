/**
 * The thin client in a real browser: Debian's headless Chromium driven by
 * playwright-core. With JavaScript off, Alice logs in with a form, sees Bob on
 * her buddy list, opens a chat, sends, and sees Bob's answer after the page
 * reloads itself. With JavaScript on, Bob's chat page gets messages live over
 * the WebSocket without reloading, and markup in a message stays inert.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import t, { type Test } from 'tap';
import { ApiClient, befriend, makeUsers, PASSWORD, startPlatform, WsClient } from '../support/presence.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** One test directory (t.testdir recreates it on each call): the platform's data and a fresh browser profile. */
function dirs(t: Test): { data: string; profile: string } {
  const root = t.testdir({ data: {}, profile: {} });
  return { data: join(root, 'data'), profile: join(root, 'profile') };
}

async function browser(t: Test, profile: string, javaScriptEnabled: boolean): Promise<BrowserContext> {
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    javaScriptEnabled,
  });
  t.teardown(() => ctx.close());
  ctx.setDefaultTimeout(10_000);
  return ctx;
}

if (!existsSync(CHROMIUM)) t.fail(`${CHROMIUM} is missing (make os-deps installs it)`);

t.test('JavaScript off: log in, buddy list with presence, open a chat, send, read the answer', async (t) => {
  const d = dirs(t);
  const { platform, url } = await startPlatform(t, { dir: d.data, overrides: { presence: { pageRefreshSeconds: 2 } } });
  const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
  await befriend(platform, [alice, bob]);
  const bobApi = await ApiClient.login(url, 'bob');
  const bobWs = await WsClient.connect(url, bobApi.token);
  t.teardown(() => bobWs.close());
  await bobApi.call('PUT', '/api/v1/presence', { state: 'away', statusText: 'at lunch' });

  const ctx = await browser(t, d.profile, false);
  const page = await ctx.newPage();
  await page.goto(`${url}/`);
  t.equal(new URL(page.url()).pathname, '/login');
  await page.fill('input[name=username]', 'alice');
  await page.fill('input[name=password]', 'wrong password');
  await page.click('button[type=submit]');
  t.equal(await page.textContent('.error'), 'Wrong username or password.');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => u.pathname !== '/login');
  t.equal(new URL(page.url()).pathname, '/buddies');
  t.equal(await page.textContent(`[data-presence-user="${bob}"]`), 'away', 'Bob shows away');
  t.equal(await page.textContent('.status-text'), 'at lunch');

  await page.click(`li.contact[data-user="${bob}"] button`);
  t.match(new URL(page.url()).pathname, /^\/chat\//);
  const sessionId = (await page.getAttribute('body', 'data-session')) as string;
  await bobWs.next((f) => f.type === 'invite');
  await bobApi.call('POST', `/api/v1/sessions/${sessionId}/accept`);

  await page.fill('#text', 'hello from a browser without JavaScript');
  await page.click('#send button');
  t.equal(await page.textContent('#messages li:last-child .text'), 'hello from a browser without JavaScript');
  t.same(
    (await bobWs.waitMessages(1)).map((m) => m.text),
    ['hello from a browser without JavaScript'],
    'Bob got it live',
  );

  // Bob answers; Alice's page reloads itself (no script) and shows it.
  await bobWs.request({ type: 'send', sessionId, text: 'answer <b>in bold?</b>' });
  await page.waitForSelector('#messages li:nth-child(2)');
  t.equal(await page.textContent('#messages li:nth-child(2) .text'), 'answer <b>in bold?</b>', 'shown as text');
  t.equal(await page.locator('#messages b:not(.from)').count(), 0, 'no markup from the message');
  t.same(await platform.services.presence.unread(alice), [], 'shown = read');
});

t.test('JavaScript on: the chat page updates live over the WebSocket and stays inert', async (t) => {
  const d = dirs(t);
  const { platform, url } = await startPlatform(t, { dir: d.data, overrides: { presence: { pageRefreshSeconds: 2 } } });
  const { alice, bob } = await makeUsers(platform, ['alice', 'bob']);
  await befriend(platform, [alice, bob]);
  const aliceApi = await ApiClient.login(url, 'alice');
  const aliceWs = await WsClient.connect(url, aliceApi.token);
  t.teardown(() => aliceWs.close());
  const id = ((await aliceApi.call('POST', '/api/v1/sessions', { invitees: ['bob'] })).body as { id: string }).id;
  await aliceApi.call('POST', `/api/v1/sessions/${id}/messages`, { text: 'first, before Bob looks' });

  const ctx = await browser(t, d.profile, true);
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}/login`);
  await page.fill('input[name=username]', 'bob');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => u.pathname !== '/login');
  await page.click(`li.invitation[data-session="${id}"] button:has-text("Accept")`);
  t.equal(new URL(page.url()).pathname, `/chat/${id}`);
  await page.waitForSelector('html[data-live="open"]');
  await page.evaluate(() => {
    (globalThis as unknown as { marker: number }).marker = 42;
  });

  // Alice sends markup that would run if it were not inert.
  await aliceWs.request({ type: 'send', sessionId: id, text: '<img src=x onerror="document.title=\'pwned\'">' });
  await page.waitForSelector('#messages li:nth-child(2)');
  t.equal(await page.textContent('#messages li:nth-child(2) .text'), '<img src=x onerror="document.title=\'pwned\'">');
  t.equal(await page.locator('#messages img').count(), 0);
  t.not(await page.title(), 'pwned');
  t.equal(await page.evaluate(() => (globalThis as unknown as { marker: number }).marker), 42, 'no reload happened');

  // Bob answers from the page: it goes over the socket, Alice gets it, the page shows it once.
  await page.fill('#text', 'typed with JavaScript on');
  await page.press('#text', 'Enter');
  await aliceWs.waitMessages(2);
  t.same(
    aliceWs.messages().map((m) => m.text),
    ['first, before Bob looks', 'typed with JavaScript on'],
    'Alice got it (after the copy of her own first line, sent through the API)',
  );
  await page.waitForSelector('#messages li:nth-child(3)');
  t.equal(await page.locator('#messages li').count(), 3);
  t.equal(await page.evaluate(() => (globalThis as unknown as { marker: number }).marker), 42, 'still no reload');

  // A message the server refuses comes back into the field, with why.
  await page.fill('#text', 'ring the \u0007 bell');
  await page.press('#text', 'Enter');
  await page.waitForSelector('#send-error:not([hidden])');
  t.match(await page.textContent('#send-error'), /^Not sent: ./, 'the refusal is shown');
  t.equal(await page.inputValue('#text'), 'ring the \u0007 bell', 'and the text is kept');
  // Under the limit in characters, over it in bytes: refused before it is sent, saying the limit.
  await page.fill('#text', 'é'.repeat(5000));
  await page.press('#text', 'Enter');
  await page.waitForFunction(() => {
    const doc = (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } | null } })
      .document;
    return /at most 8192 fit/.test(doc.getElementById('send-error')?.textContent ?? '');
  });
  t.equal((await page.inputValue('#text')).length, 5000, 'the long text is kept');
  t.equal(await page.locator('#messages li').count(), 3, 'nothing was added');
  await new Promise((r) => setTimeout(r, 300));
  t.same(await platform.services.presence.unread(bob), [], 'the live page marked what it showed as read');
  t.same(errors, [], 'no script errors');
});
