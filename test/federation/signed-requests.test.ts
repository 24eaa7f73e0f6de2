/**
 * Signed server-to-server requests: two communities in this process. Each
 * forgery or fault is refused with its own code (401 for signatures), is
 * logged, and changes nothing on either database.
 */
import { generateKeyPairSync } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { contentDigest, signRequest } from '../../src/federation/signing.js';
import { loadOrCreateKey } from '../../src/federation/keys.js';
import { counts, federate, inProcessCommunity } from '../support/federation.js';
import { makeUsers } from '../support/presence.js';

t.test('signed requests between two communities', async (t) => {
  const a = await inProcessCommunity(t, 'a.example');
  const b = await inProcessCommunity(t, 'b.example', { maxBodyBytes: 4096 });
  t.not(a.publicKey, b.publicKey, 'each community has its own key pair');
  const mode = statSync(join(a.dir, 'federation-key.pem')).mode & 0o777;
  t.equal(mode, 0o600, 'the private key is readable by its owner only');

  // whoami on the CLI prints what the other provider needs
  const who = await a.ctl(['--json', 'peer', 'whoami']);
  t.equal(who.code, 0);
  t.match(JSON.parse(who.stdout), { name: 'a.example', publicKey: a.publicKey });
  t.notMatch(who.stdout, /PRIVATE/, 'never the private key');

  // an unknown peer is refused
  const aKey = loadOrCreateKey(a.dir);
  const send = async (
    path: string,
    body: string,
    opts: {
      keyId?: string;
      now?: number;
      nonce?: string;
      tamper?: (h: Record<string, string>) => void;
      sendBody?: string;
    } = {},
  ) => {
    const url = `${b.url}${path}`;
    const headers = await signRequest({
      method: 'POST',
      url,
      body,
      keyId: opts.keyId ?? 'a.example',
      privateKey: aKey.privateKey,
      now: opts.now ?? Date.now(),
      ...(opts.nonce ? { nonce: opts.nonce } : {}),
    });
    opts.tamper?.(headers);
    const r = await fetch(url, { method: 'POST', headers, body: opts.sendBody ?? body });
    return { status: r.status, body: (await r.json()) as { error?: { code: string }; name?: string } };
  };
  let r = await send('/federation/v1/ping', '{}');
  t.equal(r.status, 401);
  t.equal(r.body.error?.code, 'FEDERATION_UNKNOWN_PEER', 'a community not in the registry');

  await federate([a, b]);
  const list = await a.ctl(['peer', 'list']);
  t.match(list.stdout, /b\.example\s+http:\/\/127\.0\.0\.1:\d+\s+active\s+0/);
  const ping = await a.ctl(['peer', 'ping', 'b.example']);
  t.equal(ping.code, 0, ping.stderr);
  t.match(ping.stdout, /b\.example answered in \d+ ms/);
  const show = await a.ctl(['--json', 'peer', 'show', 'b.example']);
  t.match(JSON.parse(show.stdout), { name: 'b.example', publicKey: b.publicKey, queued: 0 });
  t.ok(JSON.parse(show.stdout).lastOkAt, 'a good ping is recorded');

  // a peer acting within its rights works
  r = await send('/federation/v1/ping', '{}');
  t.equal(r.status, 200);
  t.equal(r.body.name, 'b.example');

  const users = await makeUsers(b.platform!, ['bob']);
  const invite = (id: string, from = 'alice@a.example', to = 'bob@b.example') =>
    JSON.stringify({
      events: [
        {
          id,
          type: 'invite',
          sessionId: `s-${id}`,
          from,
          fromName: 'Alice',
          community: 'community A',
          to,
          members: [],
        },
      ],
    });
  const before = counts(b.dir);
  const beforeA = counts(a.dir);
  const refused: [string, Promise<{ status: number; body: { error?: { code: string } } }>, number, string][] = [];
  const other = generateKeyPairSync('ed25519');
  refused.push([
    'a forged signature',
    send('/federation/v1/events', invite('e1'), {
      tamper: (h) => {
        const k = Object.keys(h).find((n) => n.toLowerCase() === 'signature') as string;
        h[k] = (h[k] as string).replace(/:(.)/, (_m, c: string) => `:${c === 'A' ? 'B' : 'A'}`);
      },
    }),
    401,
    'FEDERATION_SIGNATURE_INVALID',
  ]);
  refused.push([
    'a wrong key',
    (async () => {
      const url = `${b.url}/federation/v1/events`;
      const body = invite('e2');
      const headers = await signRequest({
        method: 'POST',
        url,
        body,
        keyId: 'a.example',
        privateKey: other.privateKey,
        now: Date.now(),
      });
      const res = await fetch(url, { method: 'POST', headers, body });
      return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
    })(),
    401,
    'FEDERATION_SIGNATURE_INVALID',
  ]);
  refused.push([
    'a stale date',
    send('/federation/v1/events', invite('e3'), { now: Date.now() - 3600_000 }),
    401,
    'FEDERATION_STALE_DATE',
  ]);
  refused.push([
    'an unknown peer',
    send('/federation/v1/events', invite('e4'), { keyId: 'z.example' }),
    401,
    'FEDERATION_UNKNOWN_PEER',
  ]);
  refused.push([
    'a body that does not match its digest',
    send('/federation/v1/events', invite('e5'), { sendBody: invite('e5').replace('Alice', 'Mallory') }),
    401,
    'FEDERATION_DIGEST_MISMATCH',
  ]);
  refused.push([
    'an unsigned request',
    fetch(`${b.url}/federation/v1/events`, {
      method: 'POST',
      body: invite('e6'),
      headers: { 'content-type': 'application/json', 'content-digest': contentDigest(invite('e6')) },
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as { error?: { code: string } } })),
    401,
    'FEDERATION_SIGNATURE_MISSING',
  ]);
  refused.push(['malformed JSON', send('/federation/v1/events', '{"events": [', {}), 400, 'FEDERATION_BAD_REQUEST']);
  refused.push([
    'an oversized body',
    send('/federation/v1/events', JSON.stringify({ events: [], pad: 'x'.repeat(5000) })),
    413,
    'WEB_PAYLOAD_TOO_LARGE',
  ]);
  refused.push([
    'a peer acting for a user it does not host',
    send('/federation/v1/events', invite('e7', 'carol@c.example')),
    403,
    'FEDERATION_FORBIDDEN',
  ]);
  refused.push([
    'a peer changing the state of our own user',
    send(
      '/federation/v1/events',
      JSON.stringify({
        events: [{ id: 'e8', type: 'member', sessionId: 'none', address: 'bob@b.example', name: 'Bob', state: 'left' }],
      }),
    ),
    403,
    'FEDERATION_FORBIDDEN',
  ]);
  for (const [what, p, status, code] of refused) {
    const res = await p;
    t.equal(res.status, status, `${what}: ${status}`);
    t.equal(res.body.error?.code, code, `${what}: ${code}`);
  }
  // a replayed nonce: the first use goes through, the same request again is refused
  const body = invite('e9');
  const url = `${b.url}/federation/v1/events`;
  const headers = await signRequest({
    method: 'POST',
    url,
    body,
    keyId: 'a.example',
    privateKey: aKey.privateKey,
    now: Date.now(),
  });
  const first = await fetch(url, { method: 'POST', headers, body });
  t.equal(first.status, 200, 'the genuine request is applied');
  const replay = await fetch(url, { method: 'POST', headers, body });
  t.equal(replay.status, 401);
  t.equal(((await replay.json()) as { error: { code: string } }).error.code, 'FEDERATION_NONCE_REPLAYED');

  const after = counts(b.dir);
  t.same(
    { ...after, users: after.users - 1 },
    {
      ...before,
      im_sessions: before.im_sessions + 1,
      session_members: before.session_members + 2,
      federation_received: before.federation_received + 1,
      federation_remote_members: before.federation_remote_members + 1,
    },
    'only the genuine request changed B (one session, one remote member, one event); the refusals nothing',
  );
  t.same(counts(a.dir), beforeA, 'and nothing changed on A');
  t.ok((await b.platform!.services.presence.sessionsOf(users.bob)).length === 1, 'bob is invited once');

  // the CLI refuses bad input with a code, and removes peers
  const bad = await a.ctl(['peer', 'add', 'c.example', 'ftp://x', b.publicKey]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /FEDERATION_INVALID_INPUT/);
  const badKey = await a.ctl(['peer', 'add', 'c.example', 'http://127.0.0.1:1', 'not-a-key']);
  t.match(badKey.stderr, /FEDERATION_INVALID_INPUT/);
  const unknown = await a.ctl(['peer', 'show', 'nope.example']);
  t.match(unknown.stderr, /FEDERATION_PEER_NOT_FOUND/);
  const rm = await a.ctl(['peer', 'remove', 'b.example']);
  t.equal(rm.code, 0);
  t.match((await a.ctl(['peer', 'list'])).stdout, /\(none\)/);
  const pingGone = await a.ctl(['peer', 'ping', 'b.example']);
  t.match(pingGone.stderr, /FEDERATION_PEER_NOT_FOUND/);
});
