/**
 * The thin client's pages as people see them, in Debian's Chromium at a
 * phone's width (360 px, light) and a desktop's (1280 px, dark): no horizontal scrolling,
 * no serious or critical axe-core finding, presence shown as a mark and
 * words, message times, unread counts, a voice message that plays in the
 * page, and a refused message that keeps its text and says why (JavaScript
 * off, so the server's refusal is what shows). One browser for the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import t from 'tap';
import { eventually } from '../support/env.js';
import { ApiClient, befriend, makeUsers, PASSWORD, startPlatform, WsClient } from '../support/presence.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--autoplay-policy=no-user-gesture-required',
];
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const VOICE = readFileSync(new URL('../fixtures/ivr/reply.wav', import.meta.url));

t.setTimeout(120_000);
if (!existsSync(CHROMIUM)) t.fail(`${CHROMIUM} is missing (make os-deps installs it)`);

interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * axe-core's serious and critical findings on the page as it is now. Its
 * script is evaluated through the DevTools protocol, which a page's CSP and
 * a context with JavaScript off do not stop.
 */
async function axeFindings(page: Page): Promise<string[]> {
  const found = (await page.evaluate(
    `(() => { ${AXE}\n; return axe.run(document).then((r) => r.violations); })()`,
  )) as AxeFinding[];
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** How far the page scrolls sideways (0: not at all). */
const sideways = (page: Page) =>
  page.evaluate(() => {
    const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } })
      .document.documentElement;
    return d.scrollWidth - d.clientWidth;
  });

async function logIn(browser: Browser, url: string, width: number, javaScriptEnabled: boolean) {
  const ctx = await browser.newContext({
    viewport: { width, height: 780 },
    // The phone in light colours, the desktop in dark: axe-core checks the contrast of both.
    colorScheme: width < 600 ? 'light' : 'dark',
    javaScriptEnabled,
    timezoneId: 'UTC',
  });
  ctx.setDefaultTimeout(15_000);
  const page = await ctx.newPage();
  await page.goto(`${url}/login`);
  await page.fill('input[name=username]', 'alice');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  // The click starts the navigation; wait for the page it leads to, style sheet and all.
  await page.waitForURL((u) => u.pathname !== '/login', { waitUntil: 'load' });
  return { ctx, page };
}

t.test('buddies, chat and the operator view at 360 px (light) and 1280 px (dark)', async (t) => {
  const { platform, url } = await startPlatform(t, { overrides: { presence: { pageRefreshSeconds: 300 } } });
  const { alice, bob, carol } = await makeUsers(platform, ['alice', 'bob', 'carol']);
  await befriend(platform, [alice, bob, carol]);
  const { accounts, presence, audio, roles } = platform.services;
  await accounts.updateUser('alice', { timeZone: 'Asia/Kolkata' });
  await roles.setAdmin('alice', true);
  const bobApi = await ApiClient.login(url, 'bob');
  const bobWs = await WsClient.connect(url, bobApi.token);
  t.teardown(() => bobWs.close());
  await bobApi.call('PUT', '/api/v1/presence', { state: 'away', statusText: 'at lunch' });
  const s = await presence.createSession(bob, [alice]);
  await presence.accept(s.id, alice);
  const first = await presence.postMessage({ sessionId: s.id, fromUserId: bob, text: 'Lunch at noon?' });
  const rec = await audio.storeRecording({ data: VOICE, userId: bob, sessionId: s.id });
  await presence.postMessage({ sessionId: s.id, fromUserId: bob, voice: { audioId: rec.id, url: rec.wavUrl } });
  const expectTime = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Asia/Kolkata',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(first.createdAt);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  t.teardown(() => browser.close());

  for (const width of [360, 1280]) {
    const { ctx, page } = await logIn(browser, url, width, true);
    t.equal(new URL(page.url()).pathname, '/buddies');
    t.equal(
      await page.evaluate(
        () =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(
            (globalThis as unknown as { document: { body: unknown } }).document.body,
          ).backgroundColor,
      ),
      width < 600 ? 'rgb(251, 251, 248)' : 'rgb(22, 24, 26)',
      'the colour scheme the reader asked for',
    );
    t.equal(await sideways(page), 0, `buddies at ${width} px: no horizontal scrolling`);
    t.same(await axeFindings(page), [], `buddies at ${width} px: axe-core clean`);
    const bobItem = page.locator(`li.contact[data-user="${bob}"]`);
    t.equal(await bobItem.getAttribute('data-state'), 'away');
    t.match(await bobItem.textContent(), /Bob \(bob\) away: at lunch/, 'presence in words');
    t.ok(await bobItem.locator('.mark').isVisible(), 'and as a mark');
    if (width === 360)
      t.match(await page.textContent(`li.session[data-session="${s.id}"]`), /2 new/, 'the unread count');
    t.match(await page.locator('a[href="/admin"]').textContent(), /Operator’s view/);

    await page.click(`li.session[data-session="${s.id}"] a`);
    await page.waitForSelector('html[data-live="open"]');
    t.equal(await sideways(page), 0, `chat at ${width} px: no horizontal scrolling`);
    t.same(await axeFindings(page), [], `chat at ${width} px: axe-core clean`);
    const firstLine = page.locator('#messages li').first();
    t.equal(await firstLine.locator('time').textContent(), expectTime, "the time in the reader's zone");
    t.match(await firstLine.textContent(), /Bob:\s+Lunch at noon\?/);
    // The voice message plays in the page: its length is shown and the player knows it.
    const player = page.locator('#messages li:nth-child(2) audio');
    t.equal(await player.getAttribute('controls'), '');
    const duration = await eventually(async () => {
      const d = await player.evaluate((a) => (a as unknown as { duration: number }).duration);
      if (!(d > 0)) throw new Error('no duration yet');
      return d;
    });
    t.ok(Math.abs(duration - rec.durationMs / 1000) < 0.25, `the player reads ${duration} s`);
    t.equal(
      await page.textContent('#messages li:nth-child(2) .duration'),
      `0:${String(Math.round(rec.durationMs / 1000)).padStart(2, '0')}`,
    );
    if (width === 1280) {
      await player.evaluate((a) => (a as unknown as { play(): Promise<void> }).play());
      await eventually(async () => {
        const at = await player.evaluate((a) => (a as unknown as { currentTime: number }).currentTime);
        if (!(at > 0)) throw new Error('not playing');
      });
      t.pass('the voice message plays');
    }

    await page.goto(`${url}/admin`);
    t.equal(await sideways(page), 0, `operator view at ${width} px: no horizontal scrolling`);
    t.same(await axeFindings(page), [], `operator view at ${width} px: axe-core clean`);
    await ctx.close();
  }

  // JavaScript off, at a phone's width: a refused message keeps its text and says why.
  const { ctx, page } = await logIn(browser, url, 360, false);
  t.teardown(() => ctx.close());
  await page.goto(`${url}/chat/${s.id}`);
  const long = 'long words '.repeat(800);
  await page.fill('#text', long);
  await page.click('#send button');
  t.equal(await page.isVisible('#send-error'), true);
  t.match(await page.textContent('#send-error'), /^Not sent: .*Your text is below; shorten it\.$/);
  t.equal(await page.getAttribute('#send-error', 'data-code'), 'PRESENCE_MESSAGE_TOO_LARGE');
  t.equal(await page.inputValue('#text'), long, 'the typed text is kept');
  t.equal(await sideways(page), 0, 'the refused page fits the phone too');
  // axe-core needs scripts: the same markup, on our origin, in a page that runs them.
  const html = await page.content();
  const checker = await browser.newPage({ viewport: { width: 360, height: 780 } });
  t.teardown(() => checker.close());
  await checker.goto(`${url}/login`);
  await checker.setContent(html);
  t.same(await axeFindings(checker), [], 'and is axe-core clean');
  // The checker does see what it should: an image with no text is a critical finding.
  await checker.setContent('<!DOCTYPE html><html lang="en"><title>x</title><main><img src="/x.png"></main></html>');
  t.match(await axeFindings(checker), [/^image-alt \(critical\)/]);
  t.equal((await presence.history(alice, s.id, { limit: 10 })).length, 2, 'nothing was posted');
});
