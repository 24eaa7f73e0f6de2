/**
 * Speech engines behind one port. Each adapter starts its engine directly
 * with an argument array (never a shell) and hands it text that speech-text.ts
 * has already sanitised; where the engine can read standard input the text
 * goes there, otherwise it is one argument after the flag that takes it.
 *
 * `say` (macOS) is the only engine that exports nothing on Linux: its adapter
 * reports itself unavailable there, and the Linux engines are used directly.
 * `sayjs` is the `say` npm package: it exports with macOS `say` and with
 * Windows SAPI (through PowerShell); on Linux it is refused the same way.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../core/errors.js';
import { decodeWhole, inlineDecoder, type PcmDecoder } from './pcm-pool.js';
import { type Pcm, parseWav } from './wav.js';

export type EngineName = 'espeak-ng' | 'flite' | 'festival' | 'say' | 'sayjs';

export interface SynthesisRequest {
  /** Sanitised text (speech-text.ts): the adapter adds no escaping of its own. */
  text: string;
  /** The engine's own voice name, validated by the config schema. */
  voice: string;
  /** Speaking rate in percent of the engine's default. */
  ratePercent: number;
  signal?: AbortSignal;
  /**
   * The rate the caller wants; an engine that writes to a pipe resamples to it
   * as the audio arrives (so little is left to do when the engine exits).
   * Others return their own rate, and the caller resamples.
   */
  sampleRate?: number;
  /** Where the WAV is read and resampled to sampleRate (the audio service's thread pool); default the calling thread. */
  decoder?: PcmDecoder;
}

/** A text-to-speech engine. `synthesize` resolves to mono 16-bit PCM at the engine's own rate, or the one asked for. */
export interface SpeechEngine {
  readonly name: EngineName;
  /** Whether the engine can export audio on this machine (probed once). */
  isAvailable(): Promise<boolean>;
  synthesize(request: SynthesisRequest): Promise<Pcm>;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
  code: number | null;
}

/** Runs a program with arguments and optional standard input, bounded in time and output. */
export function run(
  command: string,
  args: string[],
  options: {
    input?: string | Buffer;
    timeoutMs?: number;
    signal?: AbortSignal;
    maxBytes?: number;
    /** Standard output as it comes, instead of in the result. */
    onStdout?: (chunk: Buffer) => void;
  } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    const max = options.maxBytes ?? 256 * 1024 * 1024;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size > max) child.kill('SIGKILL');
      else if (options.onStdout) options.onStdout(d);
      else chunks.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(chunks), stderr, code });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** Whether a program can be started (any exit status counts; only "not found" does not). */
export async function canStart(program: string, args: string[]): Promise<boolean> {
  try {
    await run(program, args, { timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}

function failed(engine: EngineName, why: string, cause?: unknown): AppError {
  return new AppError('AUDIO_ENGINE_FAILED', `${engine}: ${why}`, { engine }, cause ? { cause } : undefined);
}

/** The engine's whole WAV as PCM: at its own rate, or read and resampled by the request's decoder to the one asked for. */
async function toPcm(engine: EngineName, result: RunResult | Buffer, r?: SynthesisRequest): Promise<Pcm> {
  const wav = Buffer.isBuffer(result) ? result : result.stdout;
  if (!Buffer.isBuffer(result) && result.code !== 0)
    throw failed(engine, `exited with ${result.code ?? 'a signal'}: ${result.stderr.trim().slice(0, 200)}`);
  const pcm = r?.sampleRate ? await decodeWhole(r.decoder ?? inlineDecoder, wav, r.sampleRate) : parseWav(wav);
  return withAudio(engine, pcm);
}

function withAudio(engine: EngineName, pcm: Pcm | null): Pcm {
  if (!pcm || pcm.samples.length === 0) throw failed(engine, 'wrote no audio');
  return pcm;
}

export interface EngineOptions {
  /** Where engines that cannot write to a pipe put their file. */
  tmpDir: string;
  timeoutMs: number;
}

abstract class ProgramEngine implements SpeechEngine {
  abstract readonly name: EngineName;
  protected abstract readonly program: string;

  constructor(protected readonly options: EngineOptions) {}

  private available: Promise<boolean> | undefined;

  isAvailable(): Promise<boolean> {
    this.available ??= canStart(this.program, this.probeArgs);
    return this.available;
  }

  protected get probeArgs(): string[] {
    return ['--version'];
  }

  async synthesize(request: SynthesisRequest): Promise<Pcm> {
    try {
      return await this.render(request);
    } catch (e) {
      if (e instanceof AppError) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new AppError('AUDIO_ENGINE_UNAVAILABLE', `${this.name} is not installed`, { engine: this.name });
      throw failed(this.name, (e as Error).message, e);
    }
  }

  protected abstract render(request: SynthesisRequest): Promise<Pcm>;

  protected exec(
    args: string[],
    request: SynthesisRequest,
    input?: string,
    onStdout?: (chunk: Buffer) => void,
  ): Promise<RunResult> {
    return run(this.program, args, {
      timeoutMs: this.options.timeoutMs,
      ...(input !== undefined ? { input } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      ...(onStdout ? { onStdout } : {}),
    });
  }
}

/** espeak-ng: text on standard input, WAV (22.05 kHz) on standard output. No -m, so no SSML is read. */
export class EspeakEngine extends ProgramEngine {
  readonly name = 'espeak-ng' as const;
  protected readonly program: string = 'espeak-ng';

  protected async render(r: SynthesisRequest): Promise<Pcm> {
    const wpm = Math.round((175 * r.ratePercent) / 100);
    const args = ['--stdin', '--stdout', '-v', r.voice, '-s', String(wpm)];
    if (!r.sampleRate) return toPcm(this.name, await this.exec(args, r, r.text));
    // Resampled while espeak-ng is still speaking: its WAV comes out in pieces as it is synthesised.
    const job = (r.decoder ?? inlineDecoder).open(r.sampleRate);
    let result: RunResult;
    try {
      result = await this.exec(args, r, r.text, (chunk) => job.push(chunk));
    } catch (e) {
      job.drop();
      throw e;
    }
    if (result.code !== 0) {
      job.drop();
      return toPcm(this.name, result);
    }
    return withAudio(this.name, await job.end());
  }
}

/** flite: it cannot open a socket as a file, so the text is one argument after -t and the WAV a temporary file. */
export class FliteEngine extends ProgramEngine {
  readonly name = 'flite' as const;
  protected readonly program: string = 'flite';

  protected async render(r: SynthesisRequest): Promise<Pcm> {
    mkdirSync(this.options.tmpDir, { recursive: true });
    const out = join(this.options.tmpDir, `flite-${randomBytes(8).toString('hex')}.wav`);
    try {
      const stretch = (100 / r.ratePercent).toFixed(3);
      const result = await this.exec(
        ['-voice', r.voice, '--setf', `duration_stretch=${stretch}`, '-t', r.text, '-o', out],
        r,
      );
      if (result.code !== 0) return await toPcm(this.name, result);
      return await toPcm(this.name, await readFile(out).catch(() => Buffer.alloc(0)), r);
    } finally {
      await unlink(out).catch(() => {});
    }
  }
}

/**
 * festival's text2wave: text on standard input read as text (never as
 * scheme); the voice and the rate are the only -eval expressions, built from
 * config-validated names and a number.
 */
export class FestivalEngine extends ProgramEngine {
  readonly name = 'festival' as const;
  protected readonly program: string = 'text2wave';

  protected override get probeArgs(): string[] {
    return ['-h'];
  }

  protected async render(r: SynthesisRequest): Promise<Pcm> {
    const stretch = (100 / r.ratePercent).toFixed(3);
    const args = ['-eval', `(voice_${r.voice})`, '-eval', `(Parameter.set 'Duration_Stretch ${stretch})`];
    return toPcm(this.name, await this.exec(args, r, `${r.text}\n`), r);
  }
}

/** macOS say: exports 8 kHz 16-bit WAV directly; on other systems it cannot export audio. */
export class SayEngine extends ProgramEngine {
  readonly name = 'say' as const;
  protected readonly program: string = 'say';

  constructor(
    options: EngineOptions,
    private readonly platform: NodeJS.Platform,
  ) {
    super(options);
  }

  protected override get probeArgs(): string[] {
    return ['-v', '?'];
  }

  override async isAvailable(): Promise<boolean> {
    return this.platform === 'darwin' && (await super.isAvailable());
  }

  protected async render(r: SynthesisRequest): Promise<Pcm> {
    if (this.platform !== 'darwin')
      throw new AppError('AUDIO_ENGINE_UNAVAILABLE', 'say cannot export audio on this system', { engine: this.name });
    mkdirSync(this.options.tmpDir, { recursive: true });
    const out = join(this.options.tmpDir, `say-${randomBytes(8).toString('hex')}.wav`);
    try {
      const wpm = Math.round((175 * r.ratePercent) / 100);
      const args = [
        '-v',
        r.voice,
        '-r',
        String(wpm),
        '--file-format=WAVE',
        '--data-format=LEI16@8000',
        '-o',
        out,
        '-f',
        '-',
      ];
      const result = await this.exec(args, r, r.text);
      if (result.code !== 0) return await toPcm(this.name, result);
      return await toPcm(this.name, await readFile(out), r);
    } finally {
      await unlink(out).catch(() => {});
    }
  }
}

type SayPackage = {
  Say: new (
    platform: string,
  ) => {
    export(text: string, voice?: string, speed?: number, file?: string, cb?: (err: unknown) => void): void;
    child?: { kill(signal?: string): void } | null;
  };
};

/** The platforms the `say` package can export audio on. */
const SAY_EXPORTS = new Set<NodeJS.Platform>(['darwin', 'win32']);
// Windows: the package puts the file name in a PowerShell command line; only plain paths go there.
const PLAIN_PATH = /^[A-Za-z0-9_.:\\/ -]+$/;

/**
 * The `say` npm package: macOS `say` or Windows SAPI write a WAV file, read
 * back here. Voice "default" is the system's own voice. On Linux the package
 * can only play to a sound card, never export: refused with
 * AUDIO_ENGINE_UNAVAILABLE, like the `say` adapter.
 */
export class SayPackageEngine implements SpeechEngine {
  readonly name = 'sayjs' as const;

  constructor(
    private readonly options: EngineOptions,
    private readonly platform: NodeJS.Platform,
    private readonly load: () => Promise<SayPackage> = async () =>
      (await import('say')).default as unknown as SayPackage,
  ) {}

  async isAvailable(): Promise<boolean> {
    return SAY_EXPORTS.has(this.platform);
  }

  async synthesize(r: SynthesisRequest): Promise<Pcm> {
    if (!SAY_EXPORTS.has(this.platform))
      throw new AppError(
        'AUDIO_ENGINE_UNAVAILABLE',
        `the say package cannot export audio on ${this.platform} (only on macOS and Windows)`,
        { engine: this.name },
      );
    mkdirSync(this.options.tmpDir, { recursive: true });
    const out = join(this.options.tmpDir, `sayjs-${randomBytes(8).toString('hex')}.wav`);
    if (!PLAIN_PATH.test(out))
      throw new AppError('AUDIO_ENGINE_UNAVAILABLE', 'sayjs: the data directory path has characters SAPI cannot take', {
        engine: this.name,
      });
    try {
      const { Say } = await this.load();
      const say = new Say(this.platform);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          say.child?.kill('SIGKILL');
          reject(failed(this.name, `no audio within ${this.options.timeoutMs} ms`));
        }, this.options.timeoutMs);
        const voice = r.voice === 'default' ? undefined : r.voice;
        say.export(r.text, voice, r.ratePercent / 100, out, (err) => {
          clearTimeout(timer);
          if (err) reject(failed(this.name, String((err as Error)?.message ?? err).slice(0, 200)));
          else resolve();
        });
      });
      return await toPcm(this.name, await readFile(out).catch(() => Buffer.alloc(0)), r);
    } finally {
      await unlink(out).catch(() => {});
    }
  }
}

/** The adapters of every engine this platform knows. */
export function createEngines(options: EngineOptions, platform: NodeJS.Platform): Record<EngineName, SpeechEngine> {
  return {
    'espeak-ng': new EspeakEngine(options),
    flite: new FliteEngine(options),
    festival: new FestivalEngine(options),
    say: new SayEngine(options, platform),
    sayjs: new SayPackageEngine(options, platform),
  };
}
