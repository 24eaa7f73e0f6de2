import t from 'tap';
import { durationMs, encodeWav, type Pcm, parseWav, resample, trimSilence, WavStream } from '../../src/audio/wav.js';

const sine = (rate: number, hz: number, seconds: number, amplitude = 10000): Pcm => {
  const samples = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
  return { sampleRate: rate, samples };
};
const rms = (p: Pcm, from = 0.1) => {
  let sum = 0;
  const start = Math.floor(p.samples.length * from);
  const end = Math.floor(p.samples.length * (1 - from));
  for (let i = start; i < end; i++) sum += (p.samples[i] as number) ** 2;
  return Math.sqrt(sum / (end - start));
};
const crossings = (p: Pcm) => {
  let n = 0;
  for (let i = 1; i < p.samples.length; i++) if ((p.samples[i - 1] as number) < 0 !== (p.samples[i] as number) < 0) n++;
  return n;
};

t.test('resampling to 8 kHz keeps speech frequencies and removes what would alias', async (t) => {
  for (const rate of [22050, 16000, 44100, 48000]) {
    const voice = resample(sine(rate, 1000, 1), 8000);
    t.equal(voice.sampleRate, 8000);
    t.ok(Math.abs(voice.samples.length - 8000) <= 1, `${rate}: one second stays one second`);
    t.ok(Math.abs(crossings(voice) - 2000) <= 4, `${rate}: a 1 kHz tone stays 1 kHz`);
    t.ok(Math.abs(rms(voice) - 7071) < 300, `${rate}: and keeps its level (${rms(voice).toFixed(0)})`);
    const high = resample(sine(rate, 6000, 1), 8000);
    t.ok(rms(high) < 400, `${rate}: a 6 kHz tone is filtered, not folded to 2 kHz (${rms(high).toFixed(0)})`);
  }
  const same = sine(8000, 440, 0.1);
  t.equal(resample(same, 8000), same);
});

t.test('encode and parse round-trip; duration and trimming', async (t) => {
  const p = sine(8000, 440, 0.5);
  const wav = encodeWav(p);
  t.equal(wav.length, 44 + 8000);
  t.same(parseWav(wav)?.samples, p.samples);
  t.equal(durationMs(p), 500);
  const padded: Pcm = { sampleRate: 8000, samples: new Int16Array(8000 * 2) };
  padded.samples.set(p.samples, 8000);
  const trimmed = trimSilence(padded, { marginMs: 100 });
  t.equal(trimmed.isSilent, false);
  t.ok(Math.abs(durationMs(trimmed.pcm) - 700) <= 20, `${durationMs(trimmed.pcm)} ms`);
  t.equal(trimSilence({ sampleRate: 8000, samples: new Int16Array(800) }).isSilent, true);
});

/** Feeds `bytes` to a WavStream in pieces of the given sizes, round and round. */
const streamed = (bytes: Buffer, rate: number, sizes: number[]) => {
  const w = new WavStream(rate);
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const n = sizes[k % sizes.length] as number;
    w.push(bytes.subarray(at, at + n));
    at += n;
  }
  return w.end();
};

t.test('a WAV read from a pipe as it comes gives the same 8 kHz audio as the whole file resampled', async (t) => {
  const voice = sine(22050, 700, 1.3);
  const pipe = encodeWav(voice);
  pipe.writeUInt32LE(0, 40); // an engine writing to a pipe cannot fill in the data size
  const whole = resample(parseWav(pipe) as Pcm, 8000);
  for (const sizes of [[4096], [7, 1, 4095, 333], [45, 1_000_000]])
    t.same(streamed(pipe, 8000, sizes), whole, `in pieces of ${sizes.join(', ')} bytes`);
  t.same(streamed(pipe, 22050, [1001]), parseWav(pipe), 'at its own rate: as read');

  const told = encodeWav(voice);
  const trailing = Buffer.concat([told, Buffer.from('LIST\x04\x00\x00\x00abcd')]);
  t.same(streamed(trailing, 8000, [999]), resample(parseWav(trailing) as Pcm, 8000), 'a data size is honoured');

  const eightBit = encodeWav(sine(16000, 500, 0.2));
  eightBit.writeUInt16LE(8, 34);
  t.same(streamed(eightBit, 8000, [100]), resample(parseWav(eightBit) as Pcm, 8000), 'other WAVs read at the end');
  t.equal(streamed(Buffer.from('not a wav at all, just words'), 8000, [5]), null);
});
