/**
 * What a client gets by its Accept header (HTML, WML or HDML), the times
 * the pages show in the reader's time zone, and the length of a voice
 * message as it is written beside its player.
 */
import t from 'tap';
import { clockDuration, pageFormat, readerTime } from '../../src/web/markup.js';
import { HtmlClient, startPlatform } from '../support/presence.js';

t.test('the Accept header picks the page language; HTML when in doubt', async (t) => {
  for (const [accept, want] of [
    [undefined, 'html'],
    ['', 'html'],
    ['text/html,application/xhtml+xml,*/*;q=0.8', 'html'],
    ['text/vnd.wap.wml, image/vnd.wap.wbmp, */*;q=0.1', 'wml'],
    ['text/x-hdml;version=3.1, text/x-hdmlc, */*;q=0.1', 'hdml'],
    ['text/x-hdml;q=0.5, text/vnd.wap.wml', 'wml'],
    ['text/x-hdml, text/html;q=0.9', 'hdml'],
    ['text/x-hdml;q=0.5, text/html', 'html'],
    ['text/x-hdml;q=0', 'html'],
    ['text/x-hdml;q=nonsense', 'html'],
    ['TEXT/X-HDML', 'hdml'],
  ] as const)
    t.equal(pageFormat(accept), want, String(accept));
});

t.test('times in the reader’s zone: the clock today, the date on other days, the year in other years', async (t) => {
  const now = Date.UTC(2026, 5, 15, 12, 0);
  t.same(readerTime(Date.UTC(2026, 5, 15, 9, 5), 'UTC', now), {
    text: '09:05',
    datetime: '2026-06-15T09:05:00.000Z',
  });
  t.equal(readerTime(Date.UTC(2026, 5, 15, 9, 5), 'Asia/Kolkata', now).text, '14:35', 'the reader’s zone');
  t.equal(readerTime(Date.UTC(2026, 5, 14, 22, 0), 'UTC', now).text, '14 Jun 22:00', 'yesterday has its date');
  t.equal(readerTime(Date.UTC(2026, 5, 14, 22, 0), 'Europe/Berlin', now).text, '00:00', 'but it is today in Berlin');
  t.equal(readerTime(Date.UTC(2025, 11, 31, 8, 0), 'UTC', now).text, '31 Dec 2025 08:00', 'last year has its year');
});

t.test('voice lengths as m:ss', async (t) => {
  t.equal(clockDuration(0), '0:00');
  t.equal(clockDuration(2780), '0:03');
  t.equal(clockDuration(65_400), '1:05');
  t.equal(clockDuration(-5), '0:00');
});

t.test('the stylesheet and the operator script are served, and nothing else under /static', async (t) => {
  const { url } = await startPlatform(t);
  const css = await fetch(`${url}/static/style.css`);
  t.equal(css.status, 200);
  t.match(css.headers.get('content-type'), /^text\/css/);
  t.match(await css.text(), /prefers-color-scheme: dark/);
  const js = await fetch(`${url}/static/admin.js`);
  t.match(js.headers.get('content-type'), /^text\/javascript/);
  t.match(await js.text(), /getElementById\('admin'\)/);
  const page = new HtmlClient(url);
  await page.get('/static/nothing.css');
  t.equal(page.status, 404);
});
