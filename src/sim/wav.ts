/**
 * Just enough RIFF/WAVE to do what Asterisk's format modules do with a file:
 * read its header (rate, channels, bits, where the samples are), measure its
 * duration, write 16-bit PCM back, and convert between the two signed-linear
 * rates Asterisk uses (8 kHz for `.wav`, 16 kHz for `.wav16`). In-process, so
 * no ffmpeg start sits between a key press and a prompt.
 */

export interface WavInfo {
  /** 1 = PCM, 7 = mu-law, 6 = a-law, 49 = GSM. */
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

/** Parses a WAV header; null when the bytes are not a WAV file we can read. */
export function parseWav(buf: Buffer): WavInfo | null {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') return null;
  let pos = 12;
  let fmt: Omit<WavInfo, 'dataOffset' | 'dataLength' | 'durationMs'> | undefined;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) return null;
      fmt = {
        audioFormat: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        byteRate: buf.readUInt32LE(body + 8),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt || fmt.byteRate === 0) return null;
      // Streams written before their length is known carry 0 or 0xFFFFFFFF: take what is there.
      const dataLength = Math.min(size === 0 || size === 0xffffffff ? buf.length - body : size, buf.length - body);
      return { ...fmt, dataOffset: body, dataLength, durationMs: Math.round((dataLength * 1000) / fmt.byteRate) };
    }
    pos = body + size + (size % 2);
  }
  return null;
}

/** Signed 16-bit little-endian mono samples wrapped in a WAV header. */
export function writeWav(pcm: Buffer, sampleRate: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

/**
 * The samples of a PCM WAV as signed 16-bit mono at `rate` (first channel
 * only; nearest-sample rate conversion is enough for a simulator). Null for
 * anything but 16-bit PCM.
 */
export function toSlin(buf: Buffer, info: WavInfo, rate: number): Buffer | null {
  if (info.audioFormat !== 1 || info.bitsPerSample !== 16 || info.channels < 1) return null;
  const frame = 2 * info.channels;
  const frames = Math.floor(info.dataLength / frame);
  const outFrames = Math.floor((frames * rate) / info.sampleRate);
  const out = Buffer.alloc(outFrames * 2);
  for (let i = 0; i < outFrames; i++) {
    const src = Math.min(frames - 1, Math.floor((i * info.sampleRate) / rate));
    out.writeInt16LE(buf.readInt16LE(info.dataOffset + src * frame), i * 2);
  }
  return out;
}

/** G.711 mu-law encoding of signed 16-bit samples. */
export function slinToUlaw(pcm: Buffer): Buffer {
  const out = Buffer.alloc(pcm.length >> 1);
  for (let i = 0; i < out.length; i++) {
    let s = pcm.readInt16LE(i * 2);
    const sign = s < 0 ? 0x80 : 0;
    if (s < 0) s = -s;
    s = Math.min(s, 32635) + 0x84;
    let exponent = 7;
    for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
    const mantissa = (s >> (exponent + 3)) & 0x0f;
    out[i] = ~(sign | (exponent << 4) | mantissa) & 0xff;
  }
  return out;
}

/** A tone (or silence, at amplitude 0) as signed 16-bit samples: what a machine's greeting sounds like here. */
export function tone(ms: number, rate: number, hz = 440, amplitude = 8000): Buffer {
  const n = Math.floor((ms * rate) / 1000);
  const out = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) out.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate)), i * 2);
  return out;
}
