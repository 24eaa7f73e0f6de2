/**
 * Real servers on loopback for notifier tests: an SMTP server (smtp-server,
 * in-process, mailparser reads what it receives), the Debian SNPP server
 * (Net::SNPP::Server, test/fixtures/snpp-server.pl) and an SMS centre (the
 * smpp package's server). Plus an MP3 maker on sox + ffmpeg for the audio port,
 * and a scripted reverse log-on port (the real call is the IVR's to test).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { type ParsedMail, simpleParser } from 'mailparser';
import smpp, { type PduWithResponse, type Session } from 'smpp';
import { SMTPServer } from 'smtp-server';
import type { AudioAttachmentPort } from '../../src/notify/ports.js';
import type {
  ReverseLogonOutcome,
  ReverseLogonPort,
  ReverseLogonRequest,
} from '../../src/notify/reverse-logon-port.js';
import { ROOT } from './env.js';

const run = promisify(execFile);

export interface SmtpCapture {
  port: number;
  /** SMTP connections accepted so far. */
  readonly connections: number;
  /** The most SMTP connections open at one time so far. */
  readonly mostOpen: number;
  mails: ParsedMail[];
  /** Raw envelopes: recipients per mail. */
  rcpt: string[][];
  /** Recipient addresses refused at RCPT TO (550), whichever connection or order they come in. */
  refuse: Set<string>;
  /** Replies to send instead of accepting, one per message, consumed in order (e.g. 451, 550). */
  failNext: { code: number; message: string }[];
  /** When set, called for each received message instead of answering it (a server that hangs after DATA). */
  onDataHook: { fn?: (() => void) | undefined };
  close(): Promise<void>;
}

export async function startSmtp(): Promise<SmtpCapture> {
  const mails: ParsedMail[] = [];
  const rcpt: string[][] = [];
  const failNext: { code: number; message: string }[] = [];
  const onDataHook: SmtpCapture['onDataHook'] = {};
  let connections = 0;
  let open = 0;
  let mostOpen = 0;
  const refuse = new Set<string>();
  const server = new SMTPServer({
    onRcptTo(address, _session, callback) {
      if (!refuse.has(address.address)) return callback();
      const e = new Error('no such mailbox') as Error & { responseCode: number };
      e.responseCode = 550;
      callback(e);
    },
    onConnect(_session, callback) {
      connections++;
      mostOpen = Math.max(mostOpen, ++open);
      callback();
    },
    onClose() {
      open--;
    },
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    maxClients: 200,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (onDataHook.fn) {
          onDataHook.fn();
          return;
        }
        const fail = failNext.shift();
        if (fail) {
          const e = new Error(fail.message) as Error & { responseCode: number };
          e.responseCode = fail.code;
          callback(e);
          return;
        }
        simpleParser(Buffer.concat(chunks))
          .then((m) => {
            mails.push(m);
            rcpt.push(session.envelope.rcptTo.map((r) => r.address));
            callback();
          })
          .catch(callback);
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    get connections() {
      return connections;
    },
    get mostOpen() {
      return mostOpen;
    },
    mails,
    rcpt,
    refuse,
    failNext,
    onDataHook,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface SnppPage {
  pager: string;
  mess: string;
}

export interface SnppServer {
  port: number;
  pages: SnppPage[];
  /** Connections the server accepted so far. */
  readonly connections: number;
  logFile: string;
  close(): Promise<void>;
}

/**
 * Runs Debian's Net::SNPP::Server on a free loopback port; every page it receives lands in `pages`.
 * With `idleSeconds`, the server disconnects a client silent that long ("421 Timeout, Goodbye").
 */
export async function startSnpp(logFile?: string, opts: { idleSeconds?: number } = {}): Promise<SnppServer> {
  const dir = mkdtempSync(join(tmpdir(), 'snpp-'));
  const file = logFile ?? join(dir, 'pages.log');
  // From the source tree, or from dist/ when a compiled benchmark runs.
  const script = [join(ROOT, 'test/fixtures/snpp-server.pl'), join(ROOT, '../test/fixtures/snpp-server.pl')].find((f) =>
    existsSync(f),
  );
  if (!script) throw new Error('test/fixtures/snpp-server.pl not found');
  const child = spawn('perl', [script, '0', file, ...(opts.idleSeconds ? [String(opts.idleSeconds)] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pages: SnppPage[] = [];
  let connections = 0;
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`snpp server exited (${code})`)));
    lines.on('line', (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
      else if (line === 'connection') connections++;
      else if (line.startsWith('{')) pages.push(JSON.parse(line) as SnppPage);
    });
  });
  return {
    port,
    pages,
    get connections() {
      return connections;
    },
    logFile: file,
    close: () => stopChild(child).then(() => rmSync(dir, { recursive: true, force: true })),
  };
}

/** Pages in an SNPP log file (written by the server, read by a test that outlives a process). */
export function readSnppLog(file: string): SnppPage[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as SnppPage);
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

export interface SmppMessage {
  systemId: string;
  source: string;
  destination: string;
  text: string;
}

export interface SmsCentre {
  port: number;
  messages: SmppMessage[];
  /** ESMEs bound as receivers now. */
  readonly receivers: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Drops every connection (the SMS centre restarting), still listening. */
  kick(): void;
  /** A handset's text message: deliver_sm to every bound receiver; resolves with their command_status. */
  deliver(from: string, text: string, opts?: { esmClass?: number }): Promise<number[]>;
  close(): Promise<void>;
}

/** The smpp package playing the SMS centre: accepts one system id/password, records every submit_sm. */
export async function startSmsCentre(account = { systemId: 'phoneim', password: 'secret' }): Promise<SmsCentre> {
  const messages: SmppMessage[] = [];
  const receivers = new Set<Session>();
  const sessions = new Set<Session>();
  let nextId = 1;
  let connections = 0;
  const server = smpp.createServer((session) => {
    let bound = '';
    connections++;
    sessions.add(session);
    session.on('error', () => undefined);
    session.on('close', () => {
      receivers.delete(session);
      sessions.delete(session);
    });
    session.on('bind_receiver', (pdu) => {
      const p = pdu as PduWithResponse;
      const ok = p['system_id'] === account.systemId && p['password'] === account.password;
      session.send(p.response(ok ? {} : { command_status: 0x0e /* ESME_RINVPASWD */ }));
      if (ok) receivers.add(session);
    });
    session.on('bind_transmitter', (pdu) => {
      const p = pdu as PduWithResponse;
      session.pause();
      const ok = p['system_id'] === account.systemId && p['password'] === account.password;
      if (ok) bound = String(p['system_id']);
      session.send(p.response(ok ? {} : { command_status: 0x0e /* ESME_RINVPASWD */ }));
      session.resume();
    });
    session.on('submit_sm', (pdu) => {
      const p = pdu as PduWithResponse;
      if (!bound) {
        session.send(p.response({ command_status: 0x04 /* ESME_RINVBNDSTS */ }));
        return;
      }
      const sm = p['short_message'] as { message?: string } | string | Buffer;
      const text = typeof sm === 'string' ? sm : Buffer.isBuffer(sm) ? sm.toString() : String(sm.message ?? '');
      messages.push({
        systemId: bound,
        source: String(p['source_addr']),
        destination: String(p['destination_addr']),
        text,
      });
      session.send(p.response({ message_id: `m${nextId++}` }));
    });
    session.on('unbind', (pdu) => {
      receivers.delete(session);
      session.send((pdu as PduWithResponse).response());
      session.close();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: server.address().port,
    messages,
    get receivers() {
      return receivers.size;
    },
    get connections() {
      return connections;
    },
    kick: () => {
      for (const s of sessions) s.destroy();
    },
    deliver: (from, text, opts = {}) =>
      Promise.all(
        [...receivers].map(
          (session) =>
            new Promise<number>((resolve) => {
              session.deliver_sm(
                {
                  source_addr: from.replace(/^\+/, ''),
                  source_addr_ton: 1,
                  destination_addr: 'PhoneIM',
                  esm_class: opts.esmClass ?? 0,
                  short_message: text,
                },
                (resp) => resolve(resp.command_status),
              );
            }),
        ),
      ),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}

/** The audio port as the audio server will implement it, made real with sox and ffmpeg: a tone of `seconds`. */
export function toneMp3Port(seconds: number): AudioAttachmentPort & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async mp3For(audioId: string) {
      calls.push(audioId);
      if (audioId.startsWith('missing')) throw new Error(`no audio ${audioId}`);
      const dir = mkdtempSync(join(tmpdir(), 'mp3-'));
      try {
        const wav = join(dir, 'a.wav');
        const mp3 = join(dir, 'a.mp3');
        await run('sox', ['-n', '-r', '8000', '-c', '1', wav, 'synth', String(seconds), 'sine', '440']);
        await run('ffmpeg', ['-v', 'error', '-y', '-i', wav, '-codec:a', 'libmp3lame', '-b:a', '32k', mp3]);
        return { filename: `${audioId}.mp3`, content: readFileSync(mp3), durationMs: seconds * 1000 };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The duration in seconds of an audio file's bytes, as ffprobe reads it. */
export async function probeSeconds(content: Buffer): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'probe-'));
  try {
    const f = join(dir, 'x.mp3');
    (await import('node:fs')).writeFileSync(f, content);
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'format=duration:stream=codec_name',
      '-of',
      'json',
      f,
    ]);
    const j = JSON.parse(stdout) as { format: { duration: string }; streams: { codec_name: string }[] };
    if (j.streams[0]?.codec_name !== 'mp3') throw new Error(`not an MP3: ${stdout}`);
    return Number(j.format.duration);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A reverse log-on port that answers from a script, and remembers every request. */
export class ScriptedReverseLogon implements ReverseLogonPort {
  readonly requests: ReverseLogonRequest[] = [];
  aborted = 0;

  constructor(
    private readonly script: (req: ReverseLogonRequest, signal?: AbortSignal) => Promise<ReverseLogonOutcome>,
  ) {}

  async call(req: ReverseLogonRequest, signal?: AbortSignal): Promise<ReverseLogonOutcome> {
    this.requests.push(req);
    signal?.addEventListener('abort', () => this.aborted++);
    return this.script(req, signal);
  }
}

/** Polls `check` every 20 ms until it holds or `ms` pass. */
export async function until(check: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
