/**
 * A PCM thread of the pool (pcm-pool.ts): reads engines' WAV as it arrives,
 * resamples it on the way (WavStream, the same code the main thread would run)
 * and answers each job with its samples, so the arithmetic of a render does
 * not run on the event loop that serves calls.
 *
 * Several jobs may be open at once, each by its number. Bytes that are not a
 * WAV, or a job that fails for any reason, are answered as that job's error:
 * nothing a job sends ends the thread.
 */
import { parentPort } from 'node:worker_threads';
import { WavStream } from './wav.js';

export type PcmRequest =
  | { type: 'open'; job: number; rate: number }
  | { type: 'push'; job: number; bytes: ArrayBuffer; offset: number; length: number }
  | { type: 'end'; job: number }
  | { type: 'drop'; job: number };

export type PcmAnswer =
  | { job: number; sampleRate: number; samples: Int16Array }
  | { job: number; isWav: false }
  | { job: number; error: string };

const port = parentPort;
const jobs = new Map<number, { stream: WavStream; error?: string }>();

const messageOf = (e: unknown) => String((e as Error)?.message ?? e);

function answer(a: PcmAnswer): void {
  if (!('samples' in a)) {
    port?.postMessage(a);
    return;
  }
  const s = a.samples;
  // The samples' own buffer goes across without a copy; a view into a larger one is copied first.
  const own = s.byteOffset === 0 && s.byteLength === s.buffer.byteLength ? s : s.slice();
  port?.postMessage({ ...a, samples: own }, [own.buffer as ArrayBuffer]);
}

function handle(m: PcmRequest): void {
  if (m.type === 'open') {
    jobs.set(m.job, { stream: new WavStream(m.rate) });
    return;
  }
  const j = jobs.get(m.job);
  if (!j) return;
  if (m.type === 'drop') {
    jobs.delete(m.job);
    return;
  }
  if (m.type === 'push') {
    if (j.error !== undefined) return;
    try {
      j.stream.push(Buffer.from(m.bytes, m.offset, m.length));
    } catch (e) {
      j.error = messageOf(e);
    }
    return;
  }
  jobs.delete(m.job);
  if (j.error !== undefined) {
    answer({ job: m.job, error: j.error });
    return;
  }
  try {
    const pcm = j.stream.end();
    answer(pcm ? { job: m.job, sampleRate: pcm.sampleRate, samples: pcm.samples } : { job: m.job, isWav: false });
  } catch (e) {
    answer({ job: m.job, error: messageOf(e) });
  }
}

port?.on('message', handle);
