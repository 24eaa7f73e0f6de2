import t from 'tap';
import { parseWav, slinToUlaw, toSlin, tone, writeWav } from '../../src/sim/wav.js';

t.test('WAV headers are read the way a format module reads them', async (t) => {
  const w = writeWav(tone(1000, 16000), 16000);
  t.match(parseWav(w), { audioFormat: 1, channels: 1, sampleRate: 16000, bitsPerSample: 16, durationMs: 1000 });
  t.equal(parseWav(Buffer.from('RIFF....WAVE')), null, 'no chunks');
  t.equal(parseWav(Buffer.from('not a wav file at all')), null);
  const streamed = Buffer.from(w);
  streamed.writeUInt32LE(0xffffffff, 40);
  t.equal(parseWav(streamed)?.durationMs, 1000, 'an unknown data length means "to the end"');
  const dataFirst = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVEdata\x04\0\0\0abcd', 'latin1')]);
  t.equal(parseWav(dataFirst), null, 'data before fmt');
  const shortFmt = Buffer.from(w);
  shortFmt.writeUInt32LE(8, 16);
  t.equal(parseWav(shortFmt), null, 'a truncated fmt chunk');
  const withList = Buffer.concat([w.subarray(0, 36), Buffer.from('LIST\x03\0\0\0abc\0', 'latin1'), w.subarray(36)]);
  t.equal(parseWav(withList)?.durationMs, 1000, 'odd-sized chunks are padded and skipped');
});

t.test('samples convert between rates and to mu-law', async (t) => {
  const w16 = writeWav(tone(500, 16000), 16000);
  const info = parseWav(w16);
  if (!info) throw new Error('unreadable');
  t.equal(toSlin(w16, info, 8000)?.length, 8000, 'half the samples at 8 kHz');
  t.equal(toSlin(w16, { ...info, bitsPerSample: 8 }, 8000), null, 'only 16-bit PCM');
  const pcm = Buffer.alloc(8);
  pcm.writeInt16LE(0, 0);
  pcm.writeInt16LE(32767, 2);
  pcm.writeInt16LE(-32768, 4);
  pcm.writeInt16LE(-1, 6);
  t.same([...slinToUlaw(pcm)], [0xff, 0x80, 0x00, 0x7f]);
});
