/** `phonectl gateway status` where no gateway is configured, or it never ran. */
import t from 'tap';
import { phonectl } from '../support/cli.js';

t.test('gateway status says when the gateway is not configured, and what it knows when it is', async (t) => {
  const dir = t.testdir({});
  const ctl = phonectl(dir);
  const off = await ctl(['gateway', 'status']);
  t.equal(off.code, 0);
  t.match(off.stdout, /XMPP gateway: not configured \(gateway\.xmpp\)/);
  t.match(off.stdout, /messages to XMPP: 0 queued, 0 sent/);

  const on = phonectl(dir, {
    PHONEIM_GATEWAY__XMPP__DOMAIN: 'phone.example.test',
    PHONEIM_GATEWAY__XMPP__SECRET: 'a-long-secret',
    PHONEIM_GATEWAY__XMPP__PORT: '5275',
  });
  const json = await on(['--json', 'gateway', 'status']);
  t.equal(json.code, 0);
  t.match(JSON.parse(json.stdout), {
    configured: true,
    server: '127.0.0.1:5275',
    domain: 'phone.example.test',
    nodes: [],
    queued: 0,
  });
  t.notMatch(json.stdout, /a-long-secret/, 'the secret is not shown');
  const text = await on(['gateway', 'status']);
  t.match(text.stdout, /^XMPP gateway phone\.example\.test on 127\.0\.0\.1:5275$/m);
});
