/**
 * Conversions that start a process, kept off the path between a keypress and
 * audio: compressed formats for the web and email (fluent-ffmpeg), and
 * decoding recordings Asterisk stored in a format other than PCM WAV (sox).
 */
import { rename, unlink } from 'node:fs/promises';
import ffmpeg from 'fluent-ffmpeg';
import { AppError } from '../core/errors.js';
import { run } from './engines.js';
import { type Pcm, parseWav } from './wav.js';

/** Writes `input` (a WAV) as MP3 or Ogg/Opus at `output`, through a temporary name so a reader never sees half a file. */
export async function compress(
  input: string,
  output: string,
  format: 'mp3' | 'ogg',
  timeoutMs = 60_000,
): Promise<void> {
  const tmp = `${output}.part`;
  try {
    await new Promise<void>((resolve, reject) => {
      const cmd = ffmpeg(input, { timeout: Math.ceil(timeoutMs / 1000) })
        .noVideo()
        .audioChannels(1);
      if (format === 'mp3') cmd.audioCodec('libmp3lame').audioBitrate('32k').format('mp3');
      else cmd.audioCodec('libopus').audioBitrate('24k').audioFrequency(16000).format('ogg');
      cmd
        .on('error', (e: Error) => reject(e))
        .on('end', () => resolve())
        .save(tmp);
    });
    await rename(tmp, output);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw new AppError(
      'AUDIO_TRANSCODE_FAILED',
      `ffmpeg could not make ${format}: ${(e as Error).message.slice(0, 200)}`,
      { format },
      { cause: e },
    );
  }
}

/** Formats an ARI recording may arrive in, and how sox reads each. */
export const RECORDING_FORMATS: Record<string, string[]> = {
  wav: ['-t', 'wav'],
  wav16: ['-t', 'wav'],
  ulaw: ['-t', 'ul', '-r', '8000', '-c', '1'],
  alaw: ['-t', 'al', '-r', '8000', '-c', '1'],
  sln: ['-t', 'raw', '-e', 'signed', '-b', '16', '-r', '8000', '-c', '1', '-L'],
  sln16: ['-t', 'raw', '-e', 'signed', '-b', '16', '-r', '16000', '-c', '1', '-L'],
  gsm: ['-t', 'gsm', '-r', '8000', '-c', '1'],
  mp3: ['-t', 'mp3'],
  ogg: ['-t', 'ogg'],
};

/** Decodes a recording to mono PCM: WAV in process, anything else with sox. */
export async function decodeRecording(data: Buffer, format: string): Promise<Pcm> {
  const how = RECORDING_FORMATS[format];
  if (!how) throw new AppError('AUDIO_RECORDING_INVALID', `recordings in "${format}" are not accepted`, { format });
  if (data.length === 0) throw new AppError('AUDIO_RECORDING_INVALID', 'the recording is empty');
  if (format === 'wav' || format === 'wav16') {
    const pcm = parseWav(data);
    if (pcm && pcm.samples.length > 0) return pcm;
  }
  const rate = format === 'sln16' ? 16000 : 8000;
  const r = await run(
    'sox',
    [...how, '-', '-t', 'raw', '-e', 'signed', '-b', '16', '-c', '1', '-r', String(rate), '-L', '-'],
    {
      input: data,
      timeoutMs: 60_000,
    },
  ).catch((e: Error) => {
    throw new AppError('AUDIO_TRANSCODE_FAILED', `sox could not start: ${e.message}`, {}, { cause: e });
  });
  if (r.code !== 0 || r.stdout.length < 2)
    throw new AppError('AUDIO_RECORDING_INVALID', `the recording cannot be decoded as ${format}`, { format });
  const samples = new Int16Array(Math.floor(r.stdout.length / 2));
  for (let i = 0; i < samples.length; i++) samples[i] = r.stdout.readInt16LE(i * 2);
  return { sampleRate: rate, samples };
}
