/** What a peer does to a socket never ends the process: refused upgrades reset by the client, garbage, huge URLs. */
import t from 'tap';
import { simulator } from '../telephony/support.js';
import { startPlatform } from '../support/presence.js';
import { rawExchange, sendThenReset, upgradeRequest } from '../support/raw-http.js';

// One platform for the whole file: each test below must leave it serving anyway.
const { url } = await startPlatform(t);
const port = Number(new URL(url).port);

t.test('a refused WebSocket upgrade that the client resets leaves the server serving', async (t) => {
  for (const path of ['/api/v1/ws', '/api/v1/ws?token=forged', '/elsewhere']) {
    for (let i = 0; i < 5; i++) {
      const answer = await sendThenReset(port, upgradeRequest(path));
      t.match(answer, /^HTTP\/1\.1 (401|404|400)/, `${path}: refused`);
    }
  }
  // A reset before the server has answered at all.
  const early = await new Promise<void>((resolve) => {
    import('node:net').then(({ connect }) => {
      const s = connect(port, '127.0.0.1', () => {
        s.write(upgradeRequest('/api/v1/ws').slice(0, 40));
        setImmediate(() => {
          s.resetAndDestroy();
          resolve();
        });
      });
      s.on('error', () => {});
    });
  });
  t.equal(early, undefined);
  const health = await fetch(`${url}/health`);
  t.equal(health.status, 200, 'still serving');
});

t.test("the simulator's ARI WebSocket: a refused upgrade reset by the client leaves it serving", async (t) => {
  const sim = await simulator(t);
  for (const path of ['/ari/events?app=phoneim&api_key=x:y', '/ari/events', '/nowhere']) {
    for (let i = 0; i < 5; i++) {
      const answer = await sendThenReset(sim.ariPort, upgradeRequest(path));
      t.match(answer, /^HTTP\/1\.1 (401|404|400)/, `${path}: refused`);
    }
  }
  const res = await fetch(`${sim.ariUrl}/ari/asterisk/info`);
  t.equal(res.status, 401, 'still answering');
});

t.test('a malformed request gets 400 and a body, not a dead process', async (t) => {
  const answer = await rawExchange(port, 'NONSENSE\r\n\r\n');
  t.match(answer, /^HTTP\/1\.1 400 /);
  t.match(answer, /WEB_BAD_REQUEST/);
  t.equal((await fetch(`${url}/health`)).status, 200);
});

t.test('a 100 KiB URL gets 414 and big headers 431, each with a clear body', async (t) => {
  const long = await rawExchange(port, `GET /buddies?x=${'a'.repeat(100 * 1024)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  t.match(long, /^HTTP\/1\.1 414 /, 'a 100 KiB URL: 414');
  t.match(long, /"code":"WEB_URL_TOO_LONG"/);
  const medium = await fetch(`${url}/health?x=${'a'.repeat(9000)}`);
  t.equal(medium.status, 414, 'over http.maxUrlBytes but within the header limit: 414 as well');
  t.match(await medium.json(), { error: { code: 'WEB_URL_TOO_LONG' } });
  const headers = await rawExchange(
    port,
    `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(64 * 1024)}\r\n\r\n`,
  );
  t.match(headers, /^HTTP\/1\.1 431 /, 'oversized headers: 431');
  t.match(headers, /"code":"WEB_HEADERS_TOO_LARGE"/);
  t.equal((await fetch(`${url}/health`)).status, 200, 'still serving');
});
