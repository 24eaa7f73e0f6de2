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

/** Where a WAV's samples are and how they are coded; what Asterisk's format modules read. */
export interface WavHeader {
  /** 1 = PCM, 3 = float, 7 = mu-law, 6 = a-law, 49 = GSM (WAVE_FORMAT_EXTENSIBLE resolved). */
  audioFormat: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  byteRate: number;
  /** Offset and length of the data chunk's payload. */
  dataOffset: number;
  dataLength: number;
  durationMs: number;
}

/** Reads a WAV's header chunks; null when the bytes are not a WAV file. */
export function readWavHeader(buf: Buffer): WavHeader | null {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') return null;
  let offset = 12;
  let fmt: Omit<WavHeader, 'dataOffset' | 'dataLength' | 'durationMs'> | undefined;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) return null;
      let audioFormat = buf.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the real format tag.
      if (audioFormat === 0xfffe && size >= 40 && body + 26 <= buf.length) audioFormat = buf.readUInt16LE(body + 24);
      fmt = {
        audioFormat,
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        byteRate: buf.readUInt32LE(body + 8),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt?.channels || !fmt.sampleRate || !fmt.byteRate) return null;
      const dataLength = size === 0 || body + size > buf.length ? buf.length - body : size;
      return { ...fmt, dataOffset: body, dataLength, durationMs: Math.round((dataLength * 1000) / fmt.byteRate) };
    }
    offset = body + size + (size & 1);
  }
  return null;
}

/** Parses a PCM WAV (8/16/24/32-bit integer or 32-bit float, any channel count) to mono 16-bit; null if it is not one. */
export function parseWav(buf: Buffer): Pcm | null {
  const h = readWavHeader(buf);
  if (!h) return null;
  return decode(
    buf.subarray(h.dataOffset, h.dataOffset + h.dataLength),
    h.audioFormat,
    h.channels,
    h.sampleRate,
    h.bitsPerSample,
  );
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

const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

// Zero crossings of the sinc on each side: enough stop-band for telephony, cheap in JS.
const ZERO_CROSSINGS = 10;
interface FilterBank {
  up: number;
  down: number;
  half: number;
  /** Every phase's 2 * half taps, one after another (single-precision values, held as doubles for speed). */
  taps: Float64Array;
}
const filterBanks = new Map<string, FilterBank>();

function filterBank(from: number, to: number): FilterBank {
  const key = `${from}>${to}`;
  let f = filterBanks.get(key);
  if (!f) {
    const g = gcd(from, to);
    const up = to / g;
    const down = from / g;
    const cutoff = Math.min(1, to / from) * 0.92;
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
    const taps = new Float64Array(up * 2 * half);
    bank.forEach((b, phase) => {
      taps.set(b, phase * 2 * half);
    });
    f = { up, down, half, taps };
    filterBanks.set(key, f);
  }
  return f;
}

/** Output samples [from, to) of the first `length` input samples (zero beyond them). */
function resampleRange(f: FilterBank, input: Int16Array, length: number, out: Int16Array, from: number, to: number) {
  const { up, down, half, taps } = f;
  const width = 2 * half;
  for (let j = from; j < to; j++) {
    const pos = j * down;
    const base = Math.floor(pos / up);
    const off = (pos % up) * width;
    const start = base - half + 1;
    let acc = 0;
    if (start >= 0 && start + width <= length) {
      // The same products summed in the same order as below (the result is bit for bit the same), with one index each.
      for (let k = start, o = off, end = off + width; o < end; k++, o++)
        acc += (input[k] as number) * (taps[o] as number);
    } else {
      for (let i = 0; i < width; i++) {
        const k = start + i;
        if (k >= 0 && k < length) acc += (input[k] as number) * (taps[off + i] as number);
      }
    }
    out[j] = clip(acc);
  }
}

/**
 * Polyphase windowed-sinc resampling by the rational ratio of the two rates
 * (22050 -> 8000 is 160/441), with the low-pass below the new Nyquist. The
 * filter bank is built once per rate pair.
 */
export function resample(pcm: Pcm, rate: number): Pcm {
  if (pcm.sampleRate === rate) return pcm;
  const f = filterBank(pcm.sampleRate, rate);
  const n = Math.floor((pcm.samples.length * f.up) / f.down);
  const out = new Int16Array(n);
  resampleRange(f, pcm.samples, pcm.samples.length, out, 0, n);
  return { sampleRate: rate, samples: out };
}

/**
 * A WAV read as it arrives from a pipe, resampled to `rate` on the way: each
 * output sample is computed as soon as the input it needs has come, so the
 * work overlaps the engine's and little is left when the pipe closes. The
 * result is sample for sample that of parseWav then resample on the whole
 * bytes. WAVs other than 16-bit mono PCM are kept whole and read at the end.
 */
export class WavStream {
  private head: Buffer = Buffer.alloc(0);
  private header: WavHeader | null = null;
  private isStreaming = false;
  private odd: number | undefined;
  private input = new Int16Array(1 << 16);
  private length = 0;
  private out = new Int16Array(1 << 15);
  private produced = 0;
  private bank: FilterBank | undefined;

  constructor(private readonly rate: number) {}

  push(chunk: Buffer): void {
    if (!this.isStreaming) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.header) return; // not a stream this reads: kept whole
      const h = readWavHeader(this.head);
      if (!h) return;
      this.header = h;
      if (h.audioFormat !== 1 || h.channels !== 1 || h.bitsPerSample !== 16) return;
      this.isStreaming = true;
      if (h.sampleRate !== this.rate) this.bank = filterBank(h.sampleRate, this.rate);
      chunk = this.head.subarray(h.dataOffset);
      this.head = this.head.subarray(0, h.dataOffset);
    }
    this.take(chunk);
    this.advance();
  }

  /** The audio at `rate`; null when the bytes were not a WAV. */
  end(): Pcm | null {
    const h = this.header;
    if (!this.isStreaming || !h) {
      const pcm = parseWav(this.head);
      return pcm && resample(pcm, this.rate);
    }
    // A data chunk that says how long it is ends there (parseWav's rule): what came after it is not audio.
    const declared = this.head.readUInt32LE(h.dataOffset - 4);
    const samples = declared !== 0 && declared / 2 < this.length ? Math.floor(declared / 2) : this.length;
    if (samples !== this.length) {
      this.length = samples;
      this.produced = 0;
    }
    const input = this.input.subarray(0, this.length);
    if (!this.bank) return { sampleRate: this.rate, samples: input.slice() };
    const n = Math.floor((this.length * this.bank.up) / this.bank.down);
    this.grow(n);
    resampleRange(this.bank, this.input, this.length, this.out, this.produced, n);
    return { sampleRate: this.rate, samples: this.out.slice(0, n) };
  }

  private take(chunk: Buffer): void {
    let i = 0;
    const need = this.length + Math.ceil((chunk.length + 1) / 2);
    if (need > this.input.length) {
      const bigger = new Int16Array(Math.max(need, this.input.length * 2));
      bigger.set(this.input.subarray(0, this.length));
      this.input = bigger;
    }
    if (this.odd !== undefined && chunk.length > 0) {
      this.input[this.length++] = ((chunk[0] as number) << 8) | this.odd;
      this.odd = undefined;
      i = 1;
    }
    const pairs = (chunk.length - i) >> 1;
    if (IS_LITTLE_ENDIAN && (chunk.byteOffset + i) % 2 === 0) {
      // Aligned: the bytes are already the samples (one copy, not a read per sample).
      this.input.set(new Int16Array(chunk.buffer, chunk.byteOffset + i, pairs), this.length);
      this.length += pairs;
      i += 2 * pairs;
    } else for (; i + 1 < chunk.length; i += 2) this.input[this.length++] = chunk.readInt16LE(i);
    if (i < chunk.length) this.odd = chunk[i] as number;
  }

  /** Computes every output sample whose input window has fully arrived. */
  private advance(): void {
    const f = this.bank;
    if (!f) return;
    // Output j needs input up to floor(j * down / up) + half.
    const ready = Math.floor(((this.length - f.half) * f.up) / f.down);
    if (ready <= this.produced) return;
    this.grow(ready);
    resampleRange(f, this.input, this.length, this.out, this.produced, ready);
    this.produced = ready;
  }

  private grow(n: number): void {
    if (n <= this.out.length) return;
    const bigger = new Int16Array(Math.max(n, this.out.length * 2));
    bigger.set(this.out.subarray(0, this.produced));
    this.out = bigger;
  }
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
