/**
 * What every admin command shares: the services (built on first use, so that
 * --help touches no database), output as a table or as JSON, and errors as
 * one line on stderr with a non-zero exit code.
 */
import type { Command } from 'commander';
import { buildServices, type Services } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/core/config.js';
import { isAppError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  json?: boolean;
}

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream;
}

export class CliContext {
  private services: Services | undefined;

  constructor(
    readonly program: Command,
    readonly io: CliIo,
  ) {}

  get options(): GlobalOptions {
    return this.program.opts<GlobalOptions>();
  }

  config(): Config {
    const o = this.options;
    return loadConfig({
      env: this.io.env,
      ...(o.config ? { file: o.config } : {}),
      overrides: { ...(o.dataDir ? { dataDir: o.dataDir } : {}), log: { level: 'silent' } },
    });
  }

  get svc(): Services {
    if (!this.services) {
      const config = this.config();
      this.services = buildServices({ config, log: createLogger({ level: config.log.level }) });
    }
    return this.services;
  }

  async close(): Promise<void> {
    const s = this.services;
    this.services = undefined;
    await s?.store.close();
  }

  /** Prints rows as an aligned table, or as JSON with --json. */
  table(rows: Record<string, unknown>[], columns: string[], json: unknown = rows): void {
    if (this.options.json) {
      this.io.out(`${JSON.stringify(json, null, 2)}\n`);
      return;
    }
    if (rows.length === 0) {
      this.io.out('(none)\n');
      return;
    }
    const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v));
    const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
    const line = (values: string[]) =>
      `${values
        .map((v, i) => v.padEnd(widths[i] as number))
        .join('  ')
        .trimEnd()}\n`;
    this.io.out(line(columns.map((c) => c.toUpperCase())));
    for (const r of rows) this.io.out(line(columns.map((c) => cell(r[c]))));
  }

  /** Prints one record as "key: value" lines, or as JSON. */
  record(rec: Record<string, unknown>): void {
    if (this.options.json) {
      this.io.out(`${JSON.stringify(rec, null, 2)}\n`);
      return;
    }
    const width = Math.max(...Object.keys(rec).map((k) => k.length));
    for (const [k, v] of Object.entries(rec))
      this.io.out(`${`${k}:`.padEnd(width + 1)} ${Array.isArray(v) ? v.join(', ') || '-' : (v ?? '-')}\n`);
  }

  /** A success line for humans; with --json, the given object. */
  done(message: string, json: unknown): void {
    this.io.out(this.options.json ? `${JSON.stringify(json, null, 2)}\n` : `${message}\n`);
  }

  /** Reads one line from standard input (for PINs and passwords kept off the command line). */
  async readSecret(): Promise<string> {
    let text = '';
    for await (const chunk of this.io.stdin) {
      text += chunk.toString();
      if (text.includes('\n')) break;
    }
    return text.split(/\r?\n/)[0] ?? '';
  }
}

/** Exit codes: 0 done, 1 the request was refused (bad input, not found), 2 usage, 70 internal fault. */
export function reportError(e: unknown, io: CliIo): number {
  if (isAppError(e)) {
    io.err(`error: ${e.message} [${e.code}]\n`);
    return e.status >= 500 ? 70 : 1;
  }
  io.err(`internal error: ${(e as Error).stack ?? String(e)}\n`);
  return 70;
}

export const when = (ms: number | null | undefined): string | null => (ms ? new Date(ms).toISOString() : null);
