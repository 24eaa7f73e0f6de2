/**
 * The contract suite against a real Asterisk, when one is configured:
 *   ASTERISK_ARI_URL=http://127.0.0.1:8088 ASTERISK_ARI_USER=phoneim ASTERISK_ARI_PASSWORD=...
 *   ASTERISK_AMI_HOST=127.0.0.1 ASTERISK_AMI_PORT=5038 ASTERISK_AMI_USER=phoneim ASTERISK_AMI_SECRET=...
 *   (optional) PHONEIM_TEST_PROMPT_HOST: the address of this machine as Asterisk reaches it (default 127.0.0.1)
 * Asterisk needs dialplan/extensions.conf loaded (contexts phoneim-inbound and phoneim-test, whose hint
 * 299 follows the custom device Custom:phoneim-test-desk that the device-state case sets over AMI).
 * Skipped, with a message saying so, when ASTERISK_ARI_URL is not set.
 */
import { createRequire } from 'node:module';
import t from 'tap';
import { SystemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { AriCallControl } from '../../src/telephony/ari-call-control.js';
import { AmiDeviceStates } from '../../src/telephony/ami-device-states.js';
import { contractSuite, deviceStateContract } from './contract.js';
import { promptServer, wav } from './support.js';

const env = process.env;
const url = env.ASTERISK_ARI_URL;

if (!url) {
  t.comment('contract suite against a real Asterisk: SKIPPED (set ASTERISK_ARI_URL and the ASTERISK_AMI_* settings)');
  t.pass('skipped: no ASTERISK_ARI_URL', { skip: 'no ASTERISK_ARI_URL in the environment' });
} else {
  type Ami = {
    action(a: Record<string, string>, cb: (err: unknown) => void): void;
    keepConnected(): void;
    disconnect(): void;
    on(e: string, l: () => void): void;
  };
  const amiOf = () => {
    const create = createRequire(import.meta.url)('asterisk-manager') as (
      port: number,
      host: string,
      user: string,
      secret: string,
      events: boolean,
    ) => Ami;
    return create(
      Number(env.ASTERISK_AMI_PORT ?? 5038),
      env.ASTERISK_AMI_HOST ?? '127.0.0.1',
      env.ASTERISK_AMI_USER ?? 'phoneim',
      env.ASTERISK_AMI_SECRET ?? '',
      false,
    );
  };
  deviceStateContract(t, async (t) => {
    const source = new AmiDeviceStates({
      host: env.ASTERISK_AMI_HOST ?? '127.0.0.1',
      port: Number(env.ASTERISK_AMI_PORT ?? 5038),
      user: env.ASTERISK_AMI_USER ?? 'phoneim',
      secret: env.ASTERISK_AMI_SECRET ?? '',
      pingIntervalSeconds: 30,
      reconnectInitialMs: 100,
      reconnectMaxMs: 1000,
      log: silentLogger(),
      clock: new SystemClock(),
    });
    t.teardown(() => source.close());
    await source.start();
    const device = 'Custom:phoneim-test-desk';
    return {
      source,
      desk: {
        device,
        hint: '299@phoneim-test',
        inUse: (on) =>
          new Promise<void>((resolve, reject) => {
            const ami = amiOf();
            ami.on('error', () => {});
            ami.action(
              { action: 'Setvar', variable: `DEVICE_STATE(${device})`, value: on ? 'INUSE' : 'NOT_INUSE' },
              (err) => {
                ami.disconnect();
                if (err) reject(new Error(`AMI Setvar failed: ${JSON.stringify(err)}`));
                else resolve();
              },
            );
          }),
      },
    };
  });
  contractSuite(t, async (t) => {
    const control = new AriCallControl({
      url,
      user: env.ASTERISK_ARI_USER ?? 'phoneim',
      password: env.ASTERISK_ARI_PASSWORD ?? '',
      app: env.ASTERISK_ARI_APP ?? 'phoneim',
      log: silentLogger(),
      clock: new SystemClock(),
      reconnectInitialMs: 100,
      reconnectMaxMs: 2000,
    });
    t.teardown(() => control.close());
    control.start();
    await control.ready();
    const prompts = await promptServer(t, { '/tts/prompt-0001-abcdef.wav': [wav(1500)] });
    const host = env.PHONEIM_TEST_PROMPT_HOST ?? '127.0.0.1';
    const publicUrl = (p: string) => prompts.url(p).replace('127.0.0.1', host);
    return {
      control,
      far: {
        talker: 'Local/talker@phoneim-test',
        hangsUp: 'Local/hangs-up@phoneim-test',
        busy: 'Local/busy@phoneim-test',
        noAnswer: 'Local/noanswer@phoneim-test',
        noAnswerTimeoutSeconds: 3,
        callIn: (from, to) =>
          new Promise<void>((resolve, reject) => {
            const ami = amiOf();
            ami.on('error', () => {});
            ami.action(
              {
                action: 'Originate',
                channel: 'Local/caller@phoneim-test',
                context: 'phoneim-inbound',
                exten: to,
                priority: '1',
                callerid: from,
                async: 'true',
              },
              (err) => {
                ami.disconnect();
                if (err) reject(new Error(`AMI Originate failed: ${JSON.stringify(err)}`));
                else resolve();
              },
            );
          }),
        dropEvents: () => control.reconnect(),
        promptUrl: publicUrl('/tts/prompt-0001-abcdef.wav'),
        missingUrl: publicUrl('/tts/prompt-0002-missing.wav'),
      },
    };
  });
}
