/**
 * The adapter's REST requests when they queue: requests a caller waits on (a
 * key's playback) go before background work, and a request that gets no
 * answer fails after its timeout. Asterisk's latency is set by a loopback
 * proxy in front of the simulator that holds the requests the test names until
 * it lets them go (the events WebSocket passes straight through).
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { adapter, nextCall, simulator, until } from './support.js';

interface Held {
  path: string;
  release(): void;
}

/** A proxy to `target` that holds requests whose path matches `hold` until released; `seen` lists paths in arrival order. */
async function holdingProxy(t: Test, target: string) {
  const to = new URL(target);
  const seen: string[] = [];
  const held: Held[] = [];
  let hold: RegExp | null = null;
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const up = httpRequest(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] as string;
    seen.push(`${req.method} ${path}`);
    if (hold?.test(path)) held.push({ path, release: () => forward(req, res) });
    else forward(req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    const up = connect(Number(to.port), to.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    for (const h of held.splice(0)) h.release();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    held,
    hold(re: RegExp | null) {
      hold = re;
    },
  };
}

t.test('a play a caller waits on goes before background requests queued ahead of it', async (t) => {
  const sim = await simulator(t);
  const proxy = await holdingProxy(t, sim.ariUrl);
  // Four in flight at most, of which one background.
  const control = adapter(t, proxy.url, { maxConcurrentRequests: 4, requestTimeoutMs: 10_000 });
  await control.ready();
  const got = nextCall(control);
  sim.placeCall({ from: '+15550100101', to: '100' });
  const call = await got;

  proxy.hold(/\/play$|\/recordings\/stored\//);
  // Three plays and one background request fill the four slots.
  const first = [1, 2, 3].map(() => call.play('tone:ring', { bargeIn: false }));
  const fetched = control.fetchRecording('first-background').catch((e: Error) => e);
  await until('four requests held', () => proxy.held.length === 4);
  // Queued: another background request, then a caller's play.
  const background = control.fetchRecording('second-background').catch((e: Error) => e);
  const urgent = call.play('tone:ring', { bargeIn: false });
  await new Promise((r) => setImmediate(r));
  t.equal(proxy.held.length, 4, 'nothing more is sent while four are in flight');

  proxy.hold(null);
  const ari = (p: string) => /\/play$|\/recordings\/stored\//.test(p);
  proxy.held.shift()?.release();
  await until('the freed slot used', () => proxy.seen.filter(ari).length === 5);
  t.match(proxy.seen.filter(ari)[4], /\/play$/, 'the freed slot went to the play the caller waits on');
  for (const h of proxy.held.splice(0)) h.release();
  await Promise.all([...first, urgent]);
  t.match(await fetched, { code: 'TELEPHONY_RECORDING_NOT_FOUND' });
  t.match(await background, { code: 'TELEPHONY_RECORDING_NOT_FOUND' });
  t.match(proxy.seen.filter(ari)[5], /second-background/, 'the background request went after it');
});

t.test('a request that gets no answer fails after the request timeout; the others are not held up', async (t) => {
  const sim = await simulator(t);
  const proxy = await holdingProxy(t, sim.ariUrl);
  const control = adapter(t, proxy.url, { requestTimeoutMs: 300 });
  await control.ready();
  const got = nextCall(control);
  sim.placeCall({ from: '+15550100101', to: '100' });
  const call = await got;
  proxy.hold(/\/variable$/);
  const started = Date.now();
  const stuck = call.setVariable('HELD', '1').catch((e: Error) => e);
  const pb = await call.play('tone:ring', { bargeIn: false });
  t.ok(pb.id, 'a play sent after the held request is answered');
  t.match(await stuck, { code: 'TELEPHONY_REQUEST_FAILED', message: /no answer within 300 ms/ });
  t.ok(Date.now() - started >= 290, 'not before its time');
  proxy.hold(null);
  await call.setVariable('FREE', '1');
  t.pass('the next request is answered');
});
