/**
 * The audio file server's rules.
 *
 * - Speech is keyed by content: (engine, voice, rate, sanitised text) hashes
 *   to the audio id, so the same words are synthesised once; concurrent
 *   requests for one key share one synthesis (single flight).
 * - The telephony file (8 kHz 16-bit mono WAV) is made on the synthesis path
 *   in process (engine WAV -> resample -> file); compressed formats (MP3,
 *   Ogg/Opus) are made with ffmpeg on first request, off that path.
 * - Speech and prompts form a cache bounded by audio.cacheMaxBytes, evicted
 *   least-recently-used; recordings are users' data and never evicted.
 * - A recording's files are written to the store as well as to disk: nodes
 *   that share one store (PostgreSQL) do not share a disk, and any of them
 *   serves a voice message. A node asked for a recording it has no file of
 *   copies it from the store to its disk once. Speech is rendered by each
 *   node that needs it (the same words give the same id on every node).
 * - Speech files are each node's own, and so is its part of the index (the
 *   store is opened for this node): at start a node forgets only its own
 *   speech whose file its disk lost, and eviction removes only its own files
 *   and rows (the cache bound is per node, on its own disk). A node asked for
 *   speech that another node rendered (a URL signed there) renders it again
 *   from the shared row (what was spoken, by which engine and voice) under
 *   the same id; speech bytes are never copied between nodes.
 * - The index (the store's AudioStore) and files (<dataDir>/audio) survive a
 *   restart; the index is also held in memory (loaded once, before the first
 *   render) so a cache hit and textFor touch no disk. Marking an entry used
 *   and forgetting an evicted one are written behind, not waited for.
 * - Every URL handed out is signed and expires (url-signer.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type Metrics, noMetrics } from '../core/metrics.js';
import { createEngines, type EngineName, type SpeechEngine } from './engines.js';
import { LanguageVoices } from './language-voice.js';
import { PcmPool } from './pcm-pool.js';
import type { AudioStore } from './ports.js';
import { speechText } from './speech-text.js';
import { compress, decodeRecording } from './transcode.js';
import { type AudioFormat, AUDIO_ID, loadUrlSecret, UrlSigner } from './url-signer.js';
import { durationMs, encodeWav, resample, TELEPHONY_RATE, trimSilence } from './wav.js';

/** Bumped when the pipeline's output changes, so old cache entries are not reused. */
const PIPELINE_VERSION = 1;
/** How often a cache hit is written to the index (its least-recently-used order after a restart needs no more). */
const TOUCH_EVERY_MS = 60_000;
/** Texts whose audio id is remembered, so that a hit skips the sanitiser and the hash. */
const MAX_REMEMBERED_IDS = 10_000;
/** Background renders at once (two cores shared with live calls). */
const PRERENDER_CONCURRENCY = 2;

export interface AudioServiceDeps {
  config: Config;
  /** The index of audio and files. */
  store: AudioStore;
  clock: Clock;
  log: Logger;
  /** This node's public HTTP origin (known only once the server listens). */
  baseUrl: () => string;
  /** Engine adapters by name; default: the real ones. Tests wrap them to count and inspect calls. */
  engines?: Partial<Record<EngineName, SpeechEngine>>;
  platform?: NodeJS.Platform;
  /** Where cache hits and misses and synthesis times are reported. */
  metrics?: Metrics;
  /**
   * The fixed prompts (id -> text) that `promptUrl` serves and `renderPrompts`
   * writes into the sounds folder: the IVR's own catalogue (src/ivr/prompts.ts),
   * handed in by the composition root. Default: none.
   */
  prompts?: Readonly<Record<string, string>>;
  /** The same catalogue in other languages (primary subtag -> id -> text): `promptUrl` and `renderPrompts` take a language. */
  promptCatalogues?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * The threads that read and resample the engines' audio off the event loop
   * (pcm-pool.ts). Default: a pool of its own, closed with the service (a
   * pool handed in is the caller's to close), of one thread, two above four
   * cores: a render's arithmetic is a few ms against the engine's tens of ms
   * of CPU, so on a small machine the engines fill the cores long before one
   * thread is busy.
   */
  pcm?: PcmPool;
}

type PromptId = string;

export interface SpeechOptions {
  /** A voice name from audio.voices; default audio.defaultVoice. */
  voice?: string;
  /** The language (BCP 47) the text is in: the voice follows it (language-voice.ts). */
  language?: string;
}

type Kind = 'speech' | 'prompt' | 'recording';

interface Entry {
  id: string;
  kind: Kind;
  text: string | null;
  durationMs: number;
  lastUsedAt: number;
  /** When lastUsedAt was last written to the index. */
  writtenAt?: number;
  /** Bytes of every file of this audio on disk. */
  bytes: number;
}

export interface StoredRecording {
  id: string;
  durationMs: number;
  /** True when the recording held no sound at all (kept whole, untrimmed). */
  isSilent: boolean;
  wavUrl: string;
  mp3Url: string;
  oggUrl: string;
}

export interface RecordingInput {
  data: Buffer;
  userId: number;
  sessionId?: string;
  messageId?: string;
  /** The format Asterisk recorded in (wav, wav16, ulaw, alaw, sln, sln16, gsm); default wav. */
  format?: string;
}

export interface AudioFile {
  path: string;
  contentType: string;
  durationMs: number;
  bytes: number;
}

export const CONTENT_TYPES: Record<AudioFormat, string> = {
  wav: 'audio/x-wav',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg; codecs=opus',
};

export interface PromptRenderProgress {
  done: number;
  total: number;
  id: PromptId;
  synthesized: boolean;
}

export interface AudioDescription {
  id: string;
  kind: Kind;
  text: string | null;
  durationMs: number;
  userId: number | null;
  sessionId: string | null;
  messageId: string | null;
  isSilent: boolean;
}

export class AudioService {
  readonly dir: string;
  private readonly config: Config['audio'];
  private readonly store: AudioStore;
  private readonly loading: Promise<void>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly baseUrl: () => string;
  private readonly prompts: Readonly<Record<string, string>>;
  private readonly promptCatalogues: Readonly<Record<string, Readonly<Record<string, string>>>>;
  private readonly languageVoices: LanguageVoices;
  private readonly engines: Record<EngineName, SpeechEngine>;
  private readonly signer: UrlSigner;
  /** Where each render's audio is read and resampled. */
  readonly pcm: PcmPool;
  private readonly ownsPcm: boolean;
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Entry>>();
  /** What each text asked for (with its voice, language and kind) is, once sanitised and hashed. */
  private readonly idsOfTexts = new Map<string, string>();
  private readonly transcoding = new Map<string, Promise<void>>();
  /** Evicted entries whose rows are being removed: a render of the same id waits, so its new rows are not removed. */
  private readonly forgetting = new Map<string, Promise<void>>();
  private cacheBytes = 0;
  private readonly metrics: Metrics;
  private prerendering = 0;
  /** Pre-renders waiting for an engine; each is told whether to run (false: dropped, the queue was full). */
  private readonly prerenderQueue: ((run: boolean) => void)[] = [];
  /** How many pre-renders were dropped because the queue was full (oldest first). */
  prerenderDropped = 0;
  private isClosed = false;
  constructor(deps: AudioServiceDeps) {
    this.config = deps.config.audio;
    this.store = deps.store;
    this.clock = deps.clock;
    this.log = deps.log;
    this.baseUrl = deps.baseUrl;
    this.metrics = deps.metrics ?? noMetrics;
    this.prompts = deps.prompts ?? {};
    this.promptCatalogues = deps.promptCatalogues ?? {};
    this.languageVoices = new LanguageVoices(this.config, deps.config.language?.voices ?? {}, this.log);
    this.dir = join(resolve(deps.config.dataDir), 'audio');
    // Engine scratch files left by a crash are of no use.
    rmSync(join(this.dir, 'tmp'), { recursive: true, force: true });
    mkdirSync(join(this.dir, 'tmp'), { recursive: true });
    const real = createEngines(
      { tmpDir: join(this.dir, 'tmp'), timeoutMs: this.config.engineTimeoutMs },
      deps.platform ?? process.platform,
    );
    this.engines = { ...real, ...deps.engines };
    // Its first thread starts with the first render (which meanwhile runs here): a service that never
    // speaks starts none (under a TypeScript loader, as in tests, a thread costs seconds of CPU to boot).
    this.pcm = deps.pcm ?? new PcmPool({ size: availableParallelism() > 4 ? 2 : 1, log: this.log });
    this.ownsPcm = deps.pcm === undefined;
    this.signer = new UrlSigner(
      loadUrlSecret(this.config.urlSecret, join(resolve(deps.config.dataDir), 'audio-url.secret')),
      this.config.urlTtlSeconds,
    );
    this.loading = this.loadIndex();
    // A failed load is reported by every call that needs the index; this keeps it from going unhandled meanwhile.
    this.loading.catch((e: unknown) => this.log.error({ err: e }, 'could not load the audio index'));
  }

  /** Resolves once the index is loaded (start-up waits for it); rejects when it could not be. */
  ready(): Promise<void> {
    return this.loading;
  }

  private async loadIndex(): Promise<void> {
    const rows = await this.store.loadIndex();
    const missing: string[] = [];
    const claimed: string[] = [];
    for (const { isUnclaimed, ...r } of rows) {
      const isOnDisk = r.kind === 'recording' || existsSync(this.pathOf(r.id, 'wav'));
      // Unclaimed speech (indexed before each node had its own) is this node's when the file is on its disk;
      // otherwise it may be another node's, and is left to it.
      if (isUnclaimed) {
        if (isOnDisk) claimed.push(r.id);
        else continue;
      }
      // This node's speech file lost from its disk (copied database, cleaned folder) is rendered again on demand.
      if (!isOnDisk) {
        missing.push(r.id);
        continue;
      }
      this.entries.set(r.id, r);
      if (r.kind !== 'recording') this.cacheBytes += r.bytes;
    }
    await this.store.claim(claimed);
    for (const id of missing) await this.store.remove(id);
    this.log.debug(
      { entries: this.entries.size, cacheBytes: this.cacheBytes, dropped: missing.length, claimed: claimed.length },
      'audio index loaded',
    );
  }

  // ---- speech -------------------------------------------------------------

  private voiceOf(
    name: string | undefined,
    language?: string,
  ): { engine: EngineName; voice: string; ratePercent: number } {
    const key = name ?? this.config.defaultVoice ?? this.config.defaultEngine;
    const v = this.config.voices[key];
    if (!v) throw new AppError('AUDIO_VOICE_UNKNOWN', `no voice named "${key}"`, { voice: key });
    return this.languageVoices.resolve(v, language);
  }

  private textOptions(opts: SpeechOptions): { maxChars: number; language?: string } {
    return { maxChars: this.config.maxTextChars, ...(opts.language ? { language: opts.language } : {}) };
  }

  /** The content key: what decides whether two requests sound the same. */
  private keyOf(engine: string, voice: string, ratePercent: number, spoken: string): string {
    return createHash('sha256')
      .update(`${PIPELINE_VERSION}\0${engine}\0${voice}\0${ratePercent}\0${spoken}`)
      .digest('hex')
      .slice(0, 32);
  }

  /** The absolute signed URL of an 8 kHz WAV of the text: rendered on a miss, from the cache otherwise. */
  async speechUrl(text: string, opts: SpeechOptions = {}): Promise<string> {
    const entry = await this.speech(text, 'speech', opts);
    return this.signedUrl(entry.id, 'wav');
  }

  /**
   * Renders the text ahead of need so that a later speechUrl is a cache hit
   * (presence calls this when a message arrives for a phone user). Runs at
   * most PRERENDER_CONCURRENCY at once, leaving the engines to callers on the
   * line; never rejects: text that cannot be spoken is logged and skipped,
   * since the message itself is not at fault.
   */
  async prerender(text: string, opts: SpeechOptions = {}): Promise<void> {
    if (this.isClosed) return;
    while (this.prerendering >= PRERENDER_CONCURRENCY) {
      if (this.prerenderQueue.length >= this.config.prerenderQueueMax) {
        // A burst must not grow without bound: the oldest waiting pre-render is dropped (read later, rendered then).
        this.prerenderQueue.shift()?.(false);
        this.prerenderDropped++;
        this.log.warn(
          { queued: this.config.prerenderQueueMax, dropped: this.prerenderDropped },
          'pre-render queue full: the oldest was dropped',
        );
      }
      const run = await new Promise<boolean>((r) => this.prerenderQueue.push(r));
      if (!run) return;
    }
    this.prerendering++;
    try {
      await this.speech(text, 'speech', opts);
    } catch (e) {
      this.log.warn({ err: e, code: (e as AppError).code }, 'prerender skipped');
    } finally {
      this.prerendering--;
      this.prerenderQueue.shift()?.(true);
    }
  }

  /** The audio id the text would have (rendered or not); throws the sanitiser's coded errors. */
  speechId(text: string, opts: SpeechOptions = {}): string {
    const v = this.voiceOf(opts.voice, opts.language);
    return this.keyOf(v.engine, v.voice, v.ratePercent, speechText(text, this.textOptions(opts)));
  }

  private async speech(
    text: string,
    kind: Kind,
    opts: SpeechOptions,
    promptId?: PromptId,
    promptLang?: string,
  ): Promise<Entry> {
    this.checkOpen();
    await this.loading;
    const asked = `${kind}\0${opts.voice ?? ''}\0${opts.language ?? ''}\0${promptId ?? ''}\0${promptLang ?? ''}\0${text}`;
    const known = this.idsOfTexts.get(asked);
    const knownHit = known === undefined ? undefined : this.entries.get(known);
    if (knownHit) {
      this.metrics.speechCache(true);
      this.touch(knownHit);
      return knownHit;
    }
    const v = this.voiceOf(opts.voice, opts.language);
    const spoken = speechText(text, this.textOptions(opts));
    const id = this.keyOf(v.engine, v.voice, v.ratePercent, spoken);
    if (this.idsOfTexts.size >= MAX_REMEMBERED_IDS) this.idsOfTexts.clear();
    this.idsOfTexts.set(asked, id);
    const hit = this.entries.get(id);
    this.metrics.speechCache(hit !== undefined);
    if (hit) {
      this.touch(hit);
      return hit;
    }
    let pending = this.inflight.get(id);
    if (!pending) {
      pending = this.render(id, kind, text, spoken, v, promptId, promptLang).finally(() => this.inflight.delete(id));
      this.inflight.set(id, pending);
    }
    return pending;
  }

  private async render(
    id: string,
    kind: Kind,
    text: string,
    spoken: string,
    v: { engine: EngineName; voice: string; ratePercent: number },
    promptId: PromptId | undefined,
    promptLang?: string,
  ): Promise<Entry> {
    let wav: Buffer | undefined;
    if (promptId) wav = this.renderedPrompt(promptId, id, promptLang);
    if (!wav) {
      const engine = this.engines[v.engine];
      const started = performance.now();
      const pcm = await engine.synthesize({
        text: spoken,
        voice: v.voice,
        ratePercent: v.ratePercent,
        sampleRate: TELEPHONY_RATE,
        decoder: this.pcm,
      });
      this.metrics.synthesis(v.engine, (performance.now() - started) / 1000);
      wav = encodeWav(resample(pcm, TELEPHONY_RATE));
    }
    await this.writeFileAsync(id, 'wav', wav);
    await this.forgetting.get(id);
    const now = this.clock.now();
    const entry: Entry = {
      id,
      kind,
      text,
      durationMs: Math.round(((wav.length - 44) / 2 / TELEPHONY_RATE) * 1000),
      lastUsedAt: now,
      bytes: wav.length,
    };
    await this.store.insertAudio(
      {
        id,
        kind,
        engine: v.engine,
        voice: v.voice,
        ratePercent: v.ratePercent,
        text,
        spokenText: spoken,
        promptId: promptId ?? null,
        durationMs: entry.durationMs,
        isSilent: false,
        userId: null,
        sessionId: null,
        messageId: null,
        now,
      },
      [{ format: 'wav', bytes: wav.length, originalExt: null }],
    );
    this.entries.set(id, entry);
    this.cacheBytes += entry.bytes;
    this.evict(id);
    return entry;
  }

  private touch(entry: Entry): void {
    const now = this.clock.now();
    entry.lastUsedAt = now;
    // The order in memory is exact; the index's (read after a restart) within a minute keeps a hit cheap.
    if (now - (entry.writtenAt ?? Number.NEGATIVE_INFINITY) < TOUCH_EVERY_MS) return;
    entry.writtenAt = now;
    this.store
      .touch(entry.id, now)
      .catch((e: unknown) => this.log.warn({ err: e, audio: entry.id }, 'could not mark audio used'));
  }

  /** Drops least-recently-used speech until the cache fits; never the entry just made or one being made. */
  private evict(keep: string): void {
    if (this.cacheBytes <= this.config.cacheMaxBytes) return;
    const victims = [...this.entries.values()]
      .filter((e) => e.kind !== 'recording' && e.id !== keep && !this.inflight.has(e.id) && !this.transcodingOf(e.id))
      .sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    for (const e of victims) {
      if (this.cacheBytes <= this.config.cacheMaxBytes) break;
      // A row left behind by a failed delete is dropped at the next start (its file is gone).
      const forgotten = this.store
        .remove(e.id)
        .catch((err: unknown) => this.log.warn({ err, audio: e.id }, 'could not forget evicted audio'))
        .finally(() => {
          if (this.forgetting.get(e.id) === forgotten) this.forgetting.delete(e.id);
        });
      this.forgetting.set(e.id, forgotten);
      this.entries.delete(e.id);
      this.cacheBytes -= e.bytes;
      for (const f of ['wav', 'mp3', 'ogg'] as const) rmSync(this.pathOf(e.id, f), { force: true });
      this.log.debug({ audio: e.id, bytes: e.bytes }, 'audio evicted');
    }
  }

  private transcodingOf(id: string): boolean {
    return this.transcoding.has(`${id}.mp3`) || this.transcoding.has(`${id}.ogg`);
  }

  // ---- prompts ------------------------------------------------------------

  /** The catalogue of a language (its primary subtag): the default catalogue when none is given or known. */
  private catalogueOf(language: string | undefined): { prompts: Readonly<Record<string, string>>; lang?: string } {
    if (!language) return { prompts: this.prompts };
    const lang = language.split('-')[0]?.toLowerCase() ?? '';
    const prompts = this.promptCatalogues[lang];
    if (!prompts) throw new AppError('AUDIO_PROMPT_UNKNOWN', `no prompt catalogue in "${language}"`, { language });
    return prompts === this.prompts ? { prompts } : { prompts, lang };
  }

  /** The signed URL of a catalogue prompt: from the cache, from the sounds folder, or rendered now. */
  async promptUrl(promptId: string, opts: { language?: string } = {}): Promise<string> {
    const { prompts, lang } = this.catalogueOf(opts.language);
    const text = Object.hasOwn(prompts, promptId) ? prompts[promptId] : undefined;
    if (text === undefined) throw new AppError('AUDIO_PROMPT_UNKNOWN', `no prompt "${promptId}"`, { promptId });
    const entry = await this.speech(text, 'prompt', lang ? { language: lang } : {}, promptId, lang);
    return this.signedUrl(entry.id, 'wav');
  }

  /** Where a language's prompt files are: the sounds folder for the default catalogue, `<lang>/` under it otherwise. */
  private soundsDirOf(lang: string | undefined): string {
    const root = resolve(this.config.soundsDir);
    return lang ? join(root, lang) : root;
  }

  private manifest(lang?: string): Record<string, { key: string; text: string }> {
    try {
      return JSON.parse(readFileSync(join(this.soundsDirOf(lang), 'manifest.json'), 'utf8')) as Record<
        string,
        { key: string; text: string }
      >;
    } catch {
      return {};
    }
  }

  /** A prompt file in the sounds folder, if it was rendered with the same content key. */
  private renderedPrompt(promptId: PromptId, key: string, lang?: string): Buffer | undefined {
    if (this.manifest(lang)[promptId]?.key !== key) return undefined;
    try {
      return readFileSync(join(this.soundsDirOf(lang), `${promptId}.wav`));
    } catch {
      return undefined;
    }
  }

  /**
   * Renders every catalogue prompt into the sounds folder (and the cache), with
   * a manifest of the content keys, reporting progress after each prompt. With
   * a language, its catalogue goes into `<soundsDir>/<lang>/` (where Asterisk
   * and the simulator look up `sound:` prompts of a channel's language).
   */
  async renderPrompts(
    onProgress: (p: PromptRenderProgress) => void = () => {},
    opts: { language?: string } = {},
  ): Promise<{ synthesized: number; dir: string; total: number }> {
    await this.loading;
    const { prompts, lang } = this.catalogueOf(opts.language);
    const speechOpts = lang ? { language: lang } : {};
    const dir = this.soundsDirOf(lang);
    mkdirSync(dir, { recursive: true });
    const manifest = this.manifest(lang);
    let synthesized = 0;
    let done = 0;
    const ids = Object.keys(prompts);
    for (const id of ids) {
      const text = prompts[id] as string;
      const key = this.speechId(text, speechOpts);
      const had = this.entries.has(key) || (manifest[id]?.key === key && existsSync(join(dir, `${id}.wav`)));
      const entry = await this.speech(text, 'prompt', speechOpts, id, lang);
      const target = join(dir, `${id}.wav`);
      if (manifest[id]?.key !== entry.id || !existsSync(target)) copyFileSync(this.pathOf(entry.id, 'wav'), target);
      manifest[id] = { key: entry.id, text };
      if (!had) synthesized++;
      onProgress({ done: ++done, total: ids.length, id, synthesized: !had });
    }
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    return { synthesized, dir, total: ids.length };
  }

  // ---- recordings ---------------------------------------------------------

  /**
   * Stores a recorded reply: the original bytes as received, and an 8 kHz WAV
   * with leading and trailing silence cut. Returns its id, duration and URLs
   * (MP3 and Ogg are made on first request).
   */
  async storeRecording(input: RecordingInput): Promise<StoredRecording> {
    this.checkOpen();
    const format = input.format ?? 'wav';
    if (!Number.isInteger(input.userId)) throw new AppError('AUDIO_RECORDING_INVALID', 'a recording needs a user id');
    const pcm = resample(await decodeRecording(input.data, format), TELEPHONY_RATE);
    const trimmed = trimSilence(pcm);
    const wav = encodeWav(trimmed.pcm);
    const id = randomBytes(16).toString('hex');
    this.writeFile(id, 'original', input.data);
    this.writeFile(id, 'wav', wav);
    const now = this.clock.now();
    const entry: Entry = {
      id,
      kind: 'recording',
      text: null,
      durationMs: durationMs(trimmed.pcm),
      lastUsedAt: now,
      bytes: wav.length + input.data.length,
    };
    await this.store.insertAudio(
      {
        id,
        kind: 'recording',
        engine: null,
        voice: null,
        ratePercent: null,
        text: null,
        spokenText: null,
        promptId: null,
        durationMs: entry.durationMs,
        isSilent: trimmed.isSilent,
        userId: input.userId,
        sessionId: input.sessionId ?? null,
        messageId: input.messageId ?? null,
        now,
      },
      [
        { format: 'original', bytes: input.data.length, originalExt: format, data: input.data },
        { format: 'wav', bytes: wav.length, originalExt: null, data: wav },
      ],
    );
    this.entries.set(id, entry);
    this.log.info({ audio: id, user: input.userId, durationMs: entry.durationMs, format }, 'recording stored');
    return {
      id,
      durationMs: entry.durationMs,
      isSilent: trimmed.isSilent,
      wavUrl: this.signedUrl(id, 'wav'),
      mp3Url: this.signedUrl(id, 'mp3'),
      oggUrl: this.signedUrl(id, 'ogg'),
    };
  }

  /** Links a stored recording to the message (and session) it became. */
  async linkRecording(id: string, link: { messageId?: string; sessionId?: string }): Promise<void> {
    if (!(await this.store.linkRecording(id, link)))
      throw new AppError('AUDIO_NOT_FOUND', `no recording ${id}`, { audio: id });
  }

  /** What the store knows of one audio (recordings: who, which session and message). */
  async describe(id: string): Promise<AudioDescription | undefined> {
    return (await this.store.describe(id)) ?? undefined;
  }

  // ---- files and URLs -----------------------------------------------------

  /** The text behind a rendered audio, from its id or any URL of it; null for recordings and unknown ids. */
  textFor(urlOrAudioId: string): string | null {
    const m = /(?:^|\/)([0-9a-f]{32})(?:$|[/.])/.exec(urlOrAudioId);
    return m ? (this.entries.get(m[1] as string)?.text ?? null) : null;
  }

  /** The absolute signed URL of an audio in a format (the file need not exist yet for mp3/ogg). */
  signedUrl(audioId: string, format: AudioFormat): string {
    if (!AUDIO_ID.test(audioId)) throw new AppError('AUDIO_NOT_FOUND', 'no such audio');
    return `${this.baseUrl().replace(/\/+$/, '')}${this.signer.sign(audioId, format, this.clock.now())}`;
  }

  /** Checks a request path below /audio/ (see UrlSigner.verify); maxAgeSeconds is what is left of its life. */
  verifyPath(rest: string): { id: string; format: AudioFormat; expiresAt: number; maxAgeSeconds: number } {
    const now = this.clock.now();
    const v = this.signer.verify(rest, now);
    return { ...v, maxAgeSeconds: Math.max(0, Math.floor((v.expiresAt - now) / 1000)) };
  }

  /** A file of an audio in a format, made (once, shared) with ffmpeg when it is a compressed one not made yet. */
  async fileFor(audioId: string, format: AudioFormat): Promise<AudioFile> {
    await this.loading;
    const entry = AUDIO_ID.test(audioId) ? await this.onDisk(audioId) : undefined;
    if (!entry) throw new AppError('AUDIO_NOT_FOUND', 'no such audio', { audio: audioId });
    const path = this.pathOf(audioId, format);
    if (format !== 'wav' && !existsSync(path)) {
      const key = `${audioId}.${format}`;
      let pending = this.transcoding.get(key);
      if (!pending) {
        pending = this.transcode(entry, format).finally(() => this.transcoding.delete(key));
        this.transcoding.set(key, pending);
      }
      await pending;
    }
    let bytes: number;
    try {
      bytes = statSync(path).size;
    } catch {
      throw new AppError('AUDIO_NOT_FOUND', 'no such audio', { audio: audioId });
    }
    if (entry.kind !== 'recording') this.touch(entry);
    return { path, contentType: CONTENT_TYPES[format], durationMs: entry.durationMs, bytes };
  }

  /**
   * The entry of an audio whose WAV is on this node's disk: a recording that
   * another node stored (or that this node's disk lost) is copied from the
   * store first. Undefined when there is no such audio.
   */
  private async onDisk(audioId: string): Promise<Entry | undefined> {
    const known = this.entries.get(audioId);
    if (known && (known.kind !== 'recording' || existsSync(this.pathOf(audioId, 'wav')))) return known;
    const record = known ? undefined : await this.store.describe(audioId);
    if (!known && record && record.kind !== 'recording') return this.renderAgain(audioId);
    if (!known && record?.kind !== 'recording') return undefined;
    const wav = await this.store.fileData(audioId, 'wav');
    if (!wav) return known;
    this.writeFile(audioId, 'wav', wav);
    const entry = known ?? {
      id: audioId,
      kind: 'recording' as const,
      text: null,
      durationMs: record?.durationMs ?? 0,
      lastUsedAt: this.clock.now(),
      bytes: wav.length,
    };
    this.entries.set(audioId, entry);
    this.log.debug({ audio: audioId, bytes: wav.length }, 'recording copied from the store');
    return entry;
  }

  /**
   * Speech that another node rendered (its URL signed there), rendered on
   * this node from the shared row under the same id, once (single flight).
   * Undefined when the row's engine, voice and words no longer give that id
   * here (another version of the pipeline): that audio is not this node's to make.
   */
  private async renderAgain(audioId: string): Promise<Entry | undefined> {
    const pending = this.inflight.get(audioId);
    if (pending) return pending;
    const src = await this.store.speechSource(audioId);
    const made = this.entries.get(audioId);
    if (made) return made;
    if (!src || !Object.hasOwn(this.engines, src.engine)) return undefined;
    if (this.keyOf(src.engine, src.voice, src.ratePercent, src.spokenText) !== audioId) return undefined;
    const v = { engine: src.engine as EngineName, voice: src.voice, ratePercent: src.ratePercent };
    let again = this.inflight.get(audioId);
    if (!again) {
      again = this.render(audioId, src.kind, src.text, src.spokenText, v, src.promptId ?? undefined).finally(() =>
        this.inflight.delete(audioId),
      );
      this.inflight.set(audioId, again);
      this.log.debug({ audio: audioId }, "rendering another node's speech here");
    }
    return again;
  }

  /** The notifier's AudioAttachmentPort: a voice message as an MP3 for an email. */
  async mp3For(audioId: string): Promise<{ filename: string; content: Buffer; durationMs: number }> {
    const f = await this.fileFor(audioId, 'mp3');
    return {
      filename: `voice-message-${audioId.slice(0, 8)}.mp3`,
      content: await readFile(f.path),
      durationMs: f.durationMs,
    };
  }

  private async transcode(entry: Entry, format: 'mp3' | 'ogg'): Promise<void> {
    const out = this.pathOf(entry.id, format);
    await compress(this.pathOf(entry.id, 'wav'), out, format);
    const bytes = statSync(out).size;
    if (!this.entries.has(entry.id)) return;
    await this.store.putFile(entry.id, { format, bytes, originalExt: null });
    entry.bytes += bytes;
    if (entry.kind !== 'recording') {
      this.cacheBytes += bytes;
      this.evict(entry.id);
    }
  }

  /** Bytes of speech and prompts in the cache (what audio.cacheMaxBytes bounds). */
  get cacheSize(): number {
    return this.cacheBytes;
  }

  private pathOf(id: string, format: AudioFormat | 'original'): string {
    return join(this.dir, id.slice(0, 2), `${id}.${format === 'original' ? 'orig' : format}`);
  }

  /** Writes through a temporary name, so a concurrent reader sees the whole file or none. */
  private writeFile(id: string, format: AudioFormat | 'original', data: Buffer): void {
    const path = this.pathOf(id, format);
    mkdirSync(join(this.dir, id.slice(0, 2)), { recursive: true });
    const tmp = `${path}.${randomBytes(4).toString('hex')}.part`;
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  }

  /** writeFile off the event loop (a render is already asynchronous), through a temporary name as well. */
  private async writeFileAsync(id: string, format: AudioFormat, data: Buffer): Promise<void> {
    const path = this.pathOf(id, format);
    mkdirSync(join(this.dir, id.slice(0, 2)), { recursive: true });
    const tmp = `${path}.${randomBytes(4).toString('hex')}.part`;
    await writeFile(tmp, data);
    await rename(tmp, path);
  }

  private checkOpen(): void {
    if (this.isClosed) throw new AppError('CORE_INTERNAL', 'the audio service is closed');
  }

  /** Waits for renders and conversions under way, then refuses new work. */
  async close(): Promise<void> {
    const pending = [...this.inflight.values(), ...this.transcoding.values()];
    this.isClosed = true;
    await Promise.allSettled(pending);
    if (this.ownsPcm) await this.pcm.close();
  }
}
