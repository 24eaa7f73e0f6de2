/**
 * The `say` npm package as a speech adapter (engine "sayjs"): refused on
 * Linux with a clear coded error; on macOS it runs the system's `say`, which
 * writes the WAV that becomes telephony audio. macOS cannot run here, so the
 * second test puts a stand-in `say` program (sox writing what macOS `say`
 * writes: 32 kHz float WAV) first on PATH and runs the real package on it.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { SayPackageEngine } from '../../src/audio/engines.js';
import { audioFixture, soxi, WatchedEngine, watchedEngines } from './helpers.js';

t.test('on Linux a sayjs voice is refused with AUDIO_ENGINE_UNAVAILABLE', async (t) => {
  const fx = audioFixture(t.testdir({}), { defaultEngine: 'sayjs' });
  t.teardown(fx.close);
  await t.rejects(fx.audio.speechUrl('Hello there.'), {
    code: 'AUDIO_ENGINE_UNAVAILABLE',
    message: /the say package cannot export audio on linux \(only on macOS and Windows\)/,
  });
  t.equal(await fx.engines.sayjs.isAvailable(), false);
  t.equal(fx.audio.cacheSize, 0, 'nothing cached');
});

t.test('on macOS the package exports through say; the audio server turns it into 8 kHz telephony audio', async (t) => {
  const dir = t.testdir({ bin: {} });
  const argsFile = join(dir, 'say-args.txt');
  const fake = join(dir, 'bin', 'say');
  writeFileSync(
    fake,
    `#!/bin/sh
printf '%s\\n' "$@" > '${argsFile}'
out=""
while [ $# -gt 0 ]; do if [ "$1" = "-o" ]; then out="$2"; fi; shift; done
exec sox -q -n -r 32000 -c 1 -e floating-point -b 32 "$out" synth 0.4 sine 440
`,
  );
  chmodSync(fake, 0o755);
  const oldPath = process.env.PATH;
  process.env.PATH = `${join(dir, 'bin')}:${oldPath}`;
  t.teardown(() => {
    process.env.PATH = oldPath;
  });
  const engines = {
    ...watchedEngines(dir),
    sayjs: new WatchedEngine(new SayPackageEngine({ tmpDir: join(dir, 'tmp'), timeoutMs: 20_000 }, 'darwin')),
  };
  const fx = audioFixture(
    join(dir, 'data'),
    { voices: { sayjs: { engine: 'sayjs', voice: 'Samantha', ratePercent: 120 } }, defaultEngine: 'sayjs' },
    { engines },
  );
  t.teardown(fx.close);
  t.equal(await engines.sayjs.isAvailable(), true);
  const url = await fx.audio.speechUrl('Hello there.');
  const args = readFileSync(argsFile, 'utf8').trim().split('\n');
  t.same(args.slice(0, 3), ['-v', 'Samantha', 'Hello there.'], 'voice and text as arguments, no shell');
  t.ok(args.includes('-o'), 'exported to a file');
  const file = await fx.audio.fileFor(/\/audio\/([0-9a-f]{32})\//.exec(url)?.[1] as string, 'wav');
  const s = soxi(file.path);
  t.same({ rate: s.rate, channels: s.channels, bits: s.bits }, { rate: 8000, channels: 1, bits: 16 });
  t.ok(s.seconds > 0.3 && s.seconds < 0.5, `the length the engine made: ${s.seconds} s`);

  // An engine that writes nothing is a coded failure, not a crash.
  writeFileSync(fake, '#!/bin/sh\nexit 0\n');
  await t.rejects(fx.audio.speechUrl('Nothing comes out.'), { code: 'AUDIO_ENGINE_FAILED' });
});
