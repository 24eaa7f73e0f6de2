/**
 * A real Prosody (Debian's package) on loopback for gateway tests and the
 * benchmark: its own config in a temporary directory owned by the `prosody`
 * user (Prosody refuses to run as root), c2s and component ports on free
 * 127.0.0.1 ports, one VirtualHost with plain-text accounts written straight
 * into its data directory, and the gateway's component. Stopped, and its
 * directory removed, at teardown.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';

export const XMPP_HOST = 'example.test';
export const COMPONENT_DOMAIN = 'phone.example.test';
export const COMPONENT_SECRET = 'component-secret-for-tests';
export const XMPP_PASSWORD = 'xmpp-pass';

export interface ProsodyOptions {
  /** Accounts to create on the VirtualHost (password XMPP_PASSWORD). */
  users?: string[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Prosody's store encodes a host name's dots and other punctuation as %xx. */
const encodeHost = (s: string) =>
  s.replace(/[^a-zA-Z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

export class Prosody {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly c2sPort: number,
    readonly componentPort: number,
    private readonly uid: number,
    private readonly gid: number,
  ) {}

  /** Starts Prosody; null (with the reason) when it cannot run here. */
  static async start(opts: ProsodyOptions = {}): Promise<Prosody | { skip: string }> {
    if (!existsSync('/usr/bin/prosody')) return { skip: 'Prosody is not installed (apt-get install prosody)' };
    let uid: number;
    let gid: number;
    try {
      uid = Number(execFileSync('id', ['-u', 'prosody']).toString().trim());
      gid = Number(execFileSync('id', ['-g', 'prosody']).toString().trim());
    } catch {
      return { skip: 'there is no prosody system user' };
    }
    const dir = mkdtempSync(join(tmpdir(), 'prosody-test-'));
    const p = new Prosody(dir, await freePort(), await freePort(), uid, gid);
    p.writeConfig();
    for (const u of opts.users ?? []) p.addAccount(u);
    p.chownAll();
    try {
      await p.run();
    } catch (e) {
      await p.stop();
      rmSync(dir, { recursive: true, force: true });
      return { skip: `Prosody did not start: ${(e as Error).message}` };
    }
    return p;
  }

  get configPath(): string {
    return join(this.dir, 'prosody.cfg.lua');
  }

  get log(): string {
    try {
      return readFileSync(join(this.dir, 'prosody.log'), 'utf8');
    } catch {
      return '';
    }
  }

  private writeConfig(): void {
    mkdirSync(join(this.dir, 'data'), { recursive: true });
    const q = (s: string) => JSON.stringify(s);
    writeFileSync(
      this.configPath,
      `-- Written by test/support/prosody.ts
pidfile = ${q(join(this.dir, 'prosody.pid'))}
data_path = ${q(join(this.dir, 'data'))}
log = { { levels = { min = "info" }, to = "file", filename = ${q(join(this.dir, 'prosody.log'))} } }
interfaces = { "127.0.0.1" }
c2s_ports = { ${this.c2sPort} }
c2s_interfaces = { "127.0.0.1" }
component_ports = { ${this.componentPort} }
component_interfaces = { "127.0.0.1" }
http_ports = { }
https_ports = { }
c2s_direct_tls_ports = { }
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "offline"; "posix" }
modules_disabled = { "s2s"; "tls" }
VirtualHost ${q(XMPP_HOST)}
Component ${q(COMPONENT_DOMAIN)}
  component_secret = ${q(COMPONENT_SECRET)}
`,
    );
  }

  /** An account on the VirtualHost, written the way mod_auth_internal_plain stores it. */
  addAccount(user: string, password = XMPP_PASSWORD): void {
    const accounts = join(this.dir, 'data', encodeHost(XMPP_HOST), 'accounts');
    mkdirSync(accounts, { recursive: true });
    writeFileSync(
      join(accounts, `${encodeHost(user)}.dat`),
      `return { ["password"] = ${JSON.stringify(password)} };\n`,
    );
    this.chownAll();
  }

  private chownAll(): void {
    execFileSync('chown', ['-R', `${this.uid}:${this.gid}`, this.dir]);
    chownSync(this.dir, this.uid, this.gid);
  }

  /** Starts the server in the foreground and waits until both ports accept connections. */
  async run(timeoutMs = 20_000): Promise<void> {
    const child = spawn('/usr/bin/prosody', ['--config', this.configPath, '-F'], {
      uid: this.uid,
      gid: this.gid,
      cwd: this.dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let output = '';
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    let hasExited = false;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        hasExited = true;
        resolve();
      }),
    );
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (hasExited) throw new Error(`it exited: ${output.slice(-500)} ${this.log.slice(-500)}`);
      if ((await accepts(this.c2sPort)) && (await accepts(this.componentPort))) return;
      if (Date.now() > end) throw new Error(`no listener after ${timeoutMs} ms: ${this.log.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Stops and starts again on the same ports, data kept (offline messages, rosters). */
  async restart(): Promise<void> {
    await this.stop();
    await this.run();
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts Prosody for a test, closed at teardown; null after a visible skip when it cannot run. */
export async function prosodyFor(t: Test, opts: ProsodyOptions = {}): Promise<Prosody | null> {
  const p = await Prosody.start(opts);
  if (!(p instanceof Prosody)) {
    t.comment(`SKIP: ${p.skip}`);
    t.pass(`skipped: ${p.skip}`);
    return null;
  }
  t.teardown(() => p.close());
  return p;
}
