/** Scaffolding for federation tests: communities in this process or as processes, and signed requests. */
import { type ChildProcess, spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { Platform } from '../../src/app.js';
import { phonectl } from './cli.js';
import { entryArgs, eventually, ROOT } from './env.js';
import { type ApiClient, PASSWORD, startPlatform } from './presence.js';

export interface Community {
  name: string;
  dir: string;
  url: string;
  publicKey: string;
  platform?: Platform;
  ctl: ReturnType<typeof phonectl>;
}

export async function whoami(url: string): Promise<{ name: string; publicKey: string; url: string }> {
  const r = await fetch(`${url}/federation/v1/whoami`);
  return (await r.json()) as { name: string; publicKey: string; url: string };
}

export async function inProcessCommunity(
  t: Test,
  name: string,
  overrides: Record<string, unknown> = {},
  platformOverrides: Record<string, unknown> = {},
): Promise<Community> {
  const dir = mkdtempSync(join(tmpdir(), `phoneim-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { platform, url } = await startPlatform(t, {
    dir,
    overrides: { ...platformOverrides, federation: { domain: name, ...overrides } },
  });
  const me = await whoami(url);
  return {
    name,
    dir,
    url,
    publicKey: me.publicKey,
    platform,
    ctl: phonectl(dir, { PHONEIM_FEDERATION__DOMAIN: name }),
  };
}

/** Makes each community a peer of every other (as two operators would with phonectl peer add). */
export async function federate(communities: Community[]): Promise<void> {
  // Each community's own adds one after another (one data directory), the communities side by side.
  await Promise.all(
    communities.map(async (a) => {
      for (const b of communities)
        if (a !== b) {
          const r = await a.ctl(['peer', 'add', b.name, b.url, b.publicKey]);
          if (r.code !== 0) throw new Error(r.stderr);
        }
    }),
  );
}

const TABLES = [
  'im_sessions',
  'session_members',
  'messages',
  'federation_received',
  'federation_remote_members',
  'federation_outbox',
  'users',
] as const;
type Table = (typeof TABLES)[number];

/** The events a community has queued for a peer, oldest first (their types and texts). */
export function queuedFor(dir: string, peer: string): string[] {
  const db = new Database(join(dir, 'phoneim.sqlite'), { readonly: true });
  try {
    return (
      db.prepare('SELECT body FROM federation_outbox WHERE peer = ? ORDER BY seq').all(peer) as { body: string }[]
    ).map((r) => {
      const e = JSON.parse(r.body) as { type: string; text?: string; state?: string };
      return `${e.type}:${e.text ?? e.state ?? ''}`;
    });
  } finally {
    db.close();
  }
}

/** Counts rows of a community's tables, read from its own SQLite file. */
export function counts(dir: string): Record<Table, number> {
  const db = new Database(join(dir, 'phoneim.sqlite'), { readonly: true });
  try {
    const out = {} as Record<Table, number>;
    for (const t of TABLES) out[t] = (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    return out;
  } finally {
    db.close();
  }
}

export interface CommunityProcess extends Community {
  child: ChildProcess;
  /** Everything it wrote on stdout and stderr. */
  output: () => string;
  kill(): Promise<void>;
}

/**
 * A community as its own process (src/main.ts), on its own data directory and
 * ports; resolves once it printed its URL. `port` pins the HTTP port (to come
 * back on the same URL after a SIGKILL).
 */
export async function communityProcess(
  t: Test,
  name: string,
  dir: string,
  opts: { port?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CommunityProcess> {
  const child = spawn(process.execPath, entryArgs('src/main.ts'), {
    cwd: ROOT,
    env: {
      ...process.env,
      PHONEIM_DATA_DIR: dir,
      PHONEIM_HTTP__PORT: String(opts.port ?? 0),
      PHONEIM_LOG__LEVEL: 'warn',
      PHONEIM_ACCOUNTS__KDF_COST: '1024',
      PHONEIM_FEDERATION__DOMAIN: name,
      PHONEIM_FEDERATION__RETRY_INITIAL_MS: '100',
      PHONEIM_FEDERATION__RETRY_MAX_MS: '500',
      // a community killed and started again takes its session objects back within seconds
      PHONEIM_PRESENCE__LEASE_SECONDS: '3',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  t.teardown(kill);
  const url = await eventually(
    () => {
      const m = /platform listening on (http:\/\/\S+) /.exec(out);
      if (!m) {
        if (child.exitCode !== null) throw new Error(`community ${name} exited: ${out}`);
        throw new Error(`community ${name} not up yet`);
      }
      return m[1] as string;
    },
    { timeoutMs: 120_000 },
  );
  const me = await whoami(url);
  return {
    name,
    dir,
    url,
    publicKey: me.publicKey,
    ctl: phonectl(dir, { PHONEIM_FEDERATION__DOMAIN: name }),
    child,
    output: () => out,
    kill,
  };
}

/** A data directory with the given users (password PASSWORD), made by phonectl before the community starts. */
export interface SessionView {
  id: string;
  members: { userId: number; username: string | null; displayName: string | null; state: string }[];
}
export interface MessageView {
  id: string;
  text: string | null;
  fromUserId: number;
}

export async function setUpCommunity(t: Test, name: string, users: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `phoneim-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ctl = phonectl(dir, { PHONEIM_FEDERATION__DOMAIN: name });
  for (const u of users) {
    const r = await ctl(
      ['user', 'add', u, '--name', u[0]?.toUpperCase() + u.slice(1), '--password-stdin'],
      `${PASSWORD}\n`,
    );
    if (r.code !== 0) throw new Error(r.stderr);
  }
  return dir;
}

export const texts = (ms: MessageView[]) => ms.map((m) => m.text);

export async function messagesAt(c: ApiClient, sessionId: string): Promise<MessageView[]> {
  const r = await c.call('GET', `/api/v1/sessions/${sessionId}/messages`);
  if (r.status !== 200) throw new Error(`messages: ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body as { messages: MessageView[] }).messages;
}

export async function acceptWhenInvited(c: ApiClient, sessionId: string): Promise<void> {
  await eventually(
    async () => {
      const r = await c.call('GET', '/api/v1/sessions');
      const s = (r.body as { sessions: SessionView[] }).sessions.find((x) => x.id === sessionId);
      if (!s) throw new Error('not invited yet');
    },
    { timeoutMs: 15_000 },
  );
  const r = await c.call('POST', `/api/v1/sessions/${sessionId}/accept`);
  if (r.status !== 200) throw new Error(`accept: ${r.status} ${JSON.stringify(r.body)}`);
}
