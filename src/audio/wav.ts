/**
 * PCM in process: reading the WAV the engines and Asterisk write, resampling
 * to the telephony rate and trimming silence without starting a process.
 * Engines that write to a pipe cannot seek back to fix the RIFF sizes, so a
 * data chunk whose size is 0 or runs past the end is read to the end.
 */

/** Mono 16-bit signed samples at a rate. */
export interface Pcm {
  readonly sampleRate: number;
  readonly samples: Int16Array;
}

export const TELEPHONY_RATE = 8000;

/** Parses a PCM WAV (8/16/24/32-bit integer or 32-bit float, any channel count) to mono 16-bit; null if it is not one. */
export function parseWav(buf: Buffer): Pcm | null {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') return null;
  let offset = 12;
  let format = 0;
  let channels = 0;
  let rate = 0;
  let bits = 0;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) return null;
      format = buf.readUInt16LE(body);
      channels = buf.readUInt16LE(body + 2);
      rate = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
      // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the real format tag.
      if (format === 0xfffe && size >= 40 && body + 26 <= buf.length) format = buf.readUInt16LE(body + 24);
    } else if (id === 'data') {
      if (!channels || !rate) return null;
      const end = size === 0 || body + size > buf.length ? buf.length : body + size;
      return decode(buf.subarray(body, end), format, channels, rate, bits);
    }
    offset = body + size + (size & 1);
  }
  return null;
}

function decode(data: Buffer, format: number, channels: number, rate: number, bits: number): Pcm | null {
  const bytes = bits / 8;
  const isInt = format === 1 && (bits === 8 || bits === 16 || bits === 24 || bits === 32);
  const isFloat = format === 3 && bits === 32;
  if (!isInt && !isFloat) return null;
  const frameBytes = bytes * channels;
  const frames = Math.floor(data.length / frameBytes);
  const out = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      const o = f * frameBytes + c * bytes;
      let v: number;
      if (isFloat) v = data.readFloatLE(o) * 32767;
      else if (bits === 16) v = data.readInt16LE(o);
      else if (bits === 8) v = ((data[o] as number) - 128) << 8;
      else if (bits === 24) v = data.readIntLE(o, 3) >> 8;
      else v = data.readInt32LE(o) / 65536;
      sum += v;
    }
    out[f] = clip(sum / channels);
  }
  return { sampleRate: rate, samples: out };
}

const clip = (v: number) => (v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v));

/** A 16-bit mono PCM WAV with correct sizes. */
export function encodeWav(pcm: Pcm): Buffer {
  const dataBytes = pcm.samples.length * 2;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(pcm.sampleRate, 24);
  buf.writeUInt32LE(pcm.sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  const view = new Int16Array(buf.buffer, buf.byteOffset + 44, pcm.samples.length);
  view.set(pcm.samples);
  return buf;
}

export const durationMs = (pcm: Pcm): number => Math.round((pcm.samples.length * 1000) / pcm.sampleRate);

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

// Zero crossings of the sinc on each side: enough stop-band for telephony, cheap in JS.
const ZERO_CROSSINGS = 10;
const filterBanks = new Map<string, { up: number; down: number; half: number; bank: Float32Array[] }>();

/**
 * Polyphase windowed-sinc resampling by the rational ratio of the two rates
 * (22050 -> 8000 is 160/441), with the low-pass below the new Nyquist. The
 * filter bank is built once per rate pair.
 */
export function resample(pcm: Pcm, rate: number): Pcm {
  if (pcm.sampleRate === rate) return pcm;
  const key = `${pcm.sampleRate}>${rate}`;
  let f = filterBanks.get(key);
  if (!f) {
    const g = gcd(pcm.sampleRate, rate);
    const up = rate / g;
    const down = pcm.sampleRate / g;
    const cutoff = Math.min(1, rate / pcm.sampleRate) * 0.92;
    const half = Math.ceil(ZERO_CROSSINGS / cutoff);
    const bank: Float32Array[] = [];
    for (let phase = 0; phase < up; phase++) {
      const frac = phase / up;
      const taps = new Float32Array(2 * half);
      let sum = 0;
      for (let i = 0; i < 2 * half; i++) {
        const d = i - half + 1 - frac;
        const x = d * cutoff;
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
        const w = 0.5 + 0.5 * Math.cos((Math.PI * d) / (half + 1));
        taps[i] = sinc * w;
        sum += sinc * w;
      }
      for (let i = 0; i < taps.length; i++) taps[i] = (taps[i] as number) / sum;
      bank.push(taps);
    }
    f = { up, down, half, bank };
    filterBanks.set(key, f);
  }
  const { up, down, half, bank } = f;
  const input = pcm.samples;
  const n = Math.floor((input.length * up) / down);
  const out = new Int16Array(n);
  for (let j = 0; j < n; j++) {
    const pos = j * down;
    const base = Math.floor(pos / up);
    const taps = bank[pos % up] as Float32Array;
    const start = base - half + 1;
    let acc = 0;
    if (start >= 0 && start + taps.length <= input.length) {
      for (let i = 0; i < taps.length; i++) acc += (input[start + i] as number) * (taps[i] as number);
    } else {
      for (let i = 0; i < taps.length; i++) {
        const k = start + i;
        if (k >= 0 && k < input.length) acc += (input[k] as number) * (taps[i] as number);
      }
    }
    out[j] = clip(acc);
  }
  return { sampleRate: rate, samples: out };
}

export interface TrimOptions {
  /** Frame RMS (of 32768) at or below which a frame is silence. */
  thresholdRms?: number;
  /** Silence kept before the first and after the last sound. */
  marginMs?: number;
}

/** Cuts leading and trailing silence; a recording that is all silence comes back whole, flagged. */
export function trimSilence(pcm: Pcm, options: TrimOptions = {}): { pcm: Pcm; isSilent: boolean } {
  const threshold = options.thresholdRms ?? 400;
  const margin = Math.round(((options.marginMs ?? 150) * pcm.sampleRate) / 1000);
  const frame = Math.max(1, Math.round(pcm.sampleRate / 50));
  const s = pcm.samples;
  const loud = (start: number) => {
    let sum = 0;
    const end = Math.min(s.length, start + frame);
    for (let i = start; i < end; i++) sum += (s[i] as number) * (s[i] as number);
    return Math.sqrt(sum / Math.max(1, end - start)) > threshold;
  };
  let first = -1;
  for (let i = 0; i < s.length; i += frame)
    if (loud(i)) {
      first = i;
      break;
    }
  if (first < 0) return { pcm, isSilent: true };
  let last = first;
  for (let i = Math.floor((s.length - 1) / frame) * frame; i >= first; i -= frame)
    if (loud(i)) {
      last = Math.min(s.length, i + frame);
      break;
    }
  const from = Math.max(0, first - margin);
  const to = Math.min(s.length, last + margin);
  return { pcm: { sampleRate: pcm.sampleRate, samples: s.slice(from, to) }, isSilent: false };
}
