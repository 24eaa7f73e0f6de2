/**
 * A private PostgreSQL server for one test file: `initdb` into a temporary
 * directory, `postgres` on 127.0.0.1 at a free port with its unix socket inside
 * that directory, trust authentication for loopback only, and a fresh database
 * per test (`CREATE DATABASE`). It stops and its directory goes when the file's
 * tests end, and also when the test process dies: the server runs under a small
 * shell that stops it as soon as the test process's pipe to it closes.
 *
 * For speed only (the data is thrown away): fsync, synchronous_commit and
 * full_page_writes are off. initdb and postgres refuse to run as root; as
 * root they run as the `postgres` system user the Debian package creates.
 *
 * Where no server can start (no binaries, no such user), the caller's test is
 * skipped with a visible "PostgreSQL not available: <reason>".
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import pg from 'pg';
import type { Test } from 'tap';

export interface TestPostgres {
  /** The server's port on 127.0.0.1. */
  readonly port: number;
  /** A URL to a new database (trust auth: no password): empty, or a copy of `template` (a database name). */
  createDatabase(opts?: { template?: string }): Promise<string>;
  /** The URL of an existing database on this server. */
  url(database: string): string;
  stop(): Promise<void>;
}

const USER = 'phoneim';

/** The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/<major>/bin). */
export function findPostgresBin(root = '/usr/lib/postgresql'): string | undefined {
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((d) => /^\d+$/.test(d))
    .sort((a, b) => Number(b) - Number(a));
  for (const m of majors) {
    const bin = join(root, m, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return bin;
  }
  return undefined;
}

interface Account {
  uid: number;
  gid: number;
}

/** Who the server runs as: ourselves, or (as root) the postgres system user. */
function serverAccount(): Promise<Account | undefined> {
  if (process.getuid?.() !== 0) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    execFile('id', ['-u', 'postgres'], (e1, uid) => {
      if (e1) return reject(new Error('running as root and there is no postgres user to run the server as'));
      execFile('id', ['-g', 'postgres'], (e2, gid) => {
        if (e2) return reject(e2);
        resolve({ uid: Number(uid.trim()), gid: Number(gid.trim()) });
      });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], account: Account | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { ...(account ?? {}), env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' }, timeout: 60_000 },
      (e, _out, err) => (e ? reject(new Error(`${cmd} failed: ${err.trim() || e.message}`)) : resolve()),
    );
  });
}

/**
 * A cluster as initdb leaves it (trust for loopback and the private socket
 * only; nothing else may connect), made once per PostgreSQL binary and user
 * in the temporary directory and copied by each server. Made in a directory
 * of its own and renamed into place, so test files starting together never
 * see half of one.
 */
async function initialCluster(bin: string, account: Account | undefined): Promise<string> {
  const stamp = statSync(join(bin, 'postgres')).mtimeMs.toFixed(0);
  const target = join(
    tmpdir(),
    `phoneim-pg-initdb-${basename(dirname(bin))}-${stamp}-${account?.uid ?? process.getuid?.()}`,
  );
  if (existsSync(join(target, 'PG_VERSION'))) return target;
  const work = mkdtempSync(join(tmpdir(), 'phoneim-pg-initdb-'));
  try {
    if (account) chownSync(work, account.uid, account.gid);
    const data = join(work, 'data');
    await run(
      join(bin, 'initdb'),
      ['-D', data, '-U', USER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      account,
    );
    writeFileSync(join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
    if (account) chownSync(join(data, 'pg_hba.conf'), account.uid, account.gid);
    try {
      renameSync(data, target);
    } catch {
      // Another test file made it first.
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return target;
}

// Runs the server and waits on its stdin: when the test process ends the pipe
// (teardown) or dies, the server gets a fast shutdown and the directory goes.
const GUARD = `"$@" & pg=$!
cat >/dev/null
kill -INT "$pg" 2>/dev/null
wait "$pg"
rm -rf "$PG_TEST_DIR"`;

async function launch(bin: string, account: Account | undefined, shared: boolean): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'phoneim-pg-'));
  let child: ChildProcess | undefined;
  try {
    if (account) chownSync(dir, account.uid, account.gid);
    const data = join(dir, 'data');
    // A copy of a freshly made cluster: far quicker than initdb for every test file.
    await run('cp', ['-a', await initialCluster(bin, account), data], account);
    const port = await freePort();
    const args = [
      join(bin, 'postgres'),
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
      '-c',
      'shared_buffers=32MB',
    ];
    const proc = spawn('/bin/sh', ['-c', GUARD, 'pg-guard', ...args], {
      ...(account ?? {}),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', PG_TEST_DIR: dir },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    child = proc;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const onData = (d: Buffer) => {
        log += d.toString();
        if (log.includes('ready to accept connections')) {
          proc.stderr?.off('data', onData);
          proc.stderr?.resume();
          resolve();
        }
      };
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`postgres exited (${code}): ${log.trim().split('\n').at(-1)}`)));
      proc.once('error', reject);
    });
    if (shared) {
      // Nothing waits for it: the process may end, which ends the pipe, which stops the server.
      proc.unref();
      (proc.stdin as unknown as { unref?: () => void } | null)?.unref?.();
      (proc.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    }
    let n = 0;
    const url = (database: string) => `postgres://${USER}@127.0.0.1:${port}/${database}`;
    let stopped: Promise<void> | undefined;
    return {
      port,
      url,
      async createDatabase(opts = {}) {
        n += 1;
        const name = `t${process.pid}_${n}`;
        const admin = new pg.Client({ connectionString: url('postgres') });
        await admin.connect();
        try {
          const template = opts.template ? ` TEMPLATE ${pg.escapeIdentifier(opts.template)}` : '';
          await admin.query(`CREATE DATABASE ${name}${template}`);
        } finally {
          await admin.end();
        }
        return url(name);
      },
      stop() {
        stopped ??= (async () => {
          proc.stdin?.end();
          await exited;
          rmSync(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (e) {
    child?.stdin?.end();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Starts a server, or says why none can start. `shared`: the server lives
 * until the test process ends, without keeping it alive (a server for every
 * test of a file, started by the first that needs it).
 */
export async function startPostgres(opts: { shared?: boolean } = {}): Promise<TestPostgres | { unavailable: string }> {
  const bin = findPostgresBin();
  if (!bin) return { unavailable: 'no initdb/postgres under /usr/lib/postgresql/*/bin (Debian package postgresql)' };
  try {
    return await launch(bin, await serverAccount(), opts.shared === true);
  } catch (e) {
    return { unavailable: (e as Error).message };
  }
}

/**
 * The test file's server: started once, stopped at the file's end. Where it
 * cannot start, `t` gets a skipped test naming the reason and this returns
 * undefined.
 */
export async function postgresForTests(t: Test): Promise<TestPostgres | undefined> {
  const server = await startPostgres();
  if ('unavailable' in server) {
    t.skip(`PostgreSQL not available: ${server.unavailable}`, () => {});
    return undefined;
  }
  t.teardown(() => server.stop());
  return server;
}
