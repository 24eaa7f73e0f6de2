/**
 * The block `make run` prints at start-up in demo mode: plain lines a person
 * can read and paste (no JSON escaping), with every URL, the demo accounts
 * and the curl commands that place a call through the simulator.
 */
import { DEMO_PASSWORD, DEMO_USERS } from '../ivr/demo.js';

export interface TryItInput {
  /** The platform's HTTP base URL. */
  url: string;
  /** The embedded simulator, when no Asterisk is configured. */
  sim?:
    | {
        readonly ariUrl: string;
        readonly controlUrl: string | undefined;
        readonly controlToken?: string;
        readonly devPhoneUrl?: string | undefined;
      }
    | undefined;
  /** The demo mailbox's page, when it was started. */
  mailboxUrl?: string | undefined;
}

export function tryItBlock({ url, sim, mailboxUrl }: TryItInput): string {
  const rows = Object.entries(DEMO_USERS).map(
    ([username, d]) =>
      `    ${username.padEnd(8)} ${DEMO_PASSWORD.padEnd(15)} ${d.callerId.padEnd(14)} ${d.accountNumber.padEnd(9)} ${d.pin}`,
  );
  const lines = [
    '',
    '== Phone IM demo ==========================================================',
    '',
    ...(sim?.devPhoneUrl ? [`  Dev phone       ${sim.devPhoneUrl}   (call the IVR from the browser)`] : []),
    `  Web client      ${url}/login`,
    `  Health          ${url}/health`,
    ...(mailboxUrl ? [`  Mailbox         ${mailboxUrl}/   (the mail and pages the notifier sent)`] : []),
    ...(sim ? [`  Simulator ARI   ${sim.ariUrl}`] : []),
    ...(sim?.controlUrl ? [`  Simulator API   ${sim.controlUrl}/sim/...`] : []),
    '',
    '  Demo accounts (web: username + password; phone: caller ID or account, then PIN #)',
    `    ${'user'.padEnd(8)} ${'web password'.padEnd(15)} ${'caller ID'.padEnd(14)} ${'account'.padEnd(9)} PIN`,
    ...rows,
  ];
  if (sim?.controlUrl) {
    const auth = sim.controlToken ? ` -H "authorization: Bearer $TOKEN"` : '';
    const json = ` -H 'content-type: application/json'`;
    lines.push(
      '',
      "  Try it: call in as Bob and hear Alice's messages (paste into a shell)",
      '',
      `    CONTROL=${sim.controlUrl}`,
      ...(sim.controlToken ? [`    TOKEN=${sim.controlToken}`] : []),
      `    curl -s -X POST $CONTROL/sim/calls${auth}${json} -d '{"from":"${DEMO_USERS.bob.callerId}","to":"100"}'`,
      '    CHANNEL=<the "channelId" it printed>',
      `    curl -s -X POST $CONTROL/sim/calls/$CHANNEL/keys${auth}${json} -d '{"digits":"${DEMO_USERS.bob.pin}#"}'`,
      `    curl -s -X POST $CONTROL/sim/calls/$CHANNEL/keys${auth}${json} -d '{"digits":"6"}'    # next message`,
      `    curl -s -X POST $CONTROL/sim/calls/$CHANNEL/hangup${auth}`,
      '',
      '  Every sentence the caller hears is logged as "caller hears".',
    );
  }
  lines.push('', '  Admin command (another terminal, in this folder): ./phonectl --help', '');
  lines.push('===========================================================================', '');
  return lines.join('\n');
}
