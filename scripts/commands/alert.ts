/**
 * phonectl alert: the notifier's alerts (list, show, cancel, retry, trace,
 * test) and a user's own escalation ladder. Changes are rows in the store;
 * a running server's scheduler picks them up within notify.pollSeconds.
 */
import type { Command } from 'commander';
import { AppError } from '../../src/core/errors.js';
import type { Alert, AlertState, LadderOverride } from '../../src/notify/types.js';
import { type CliContext, when } from './cli-kit.js';

const STATES: AlertState[] = ['collecting', 'running', 'done', 'failed', 'cancelled'];

function parseStep(text: string): LadderOverride {
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m)
    throw new AppError('NOTIFY_INVALID_INPUT', `ladder step "${text}" must be DEVICE_ID or DEVICE_ID:WAIT_SECONDS`, {
      field: 'ladder',
    });
  return m[2] === undefined ? { deviceId: Number(m[1]) } : { deviceId: Number(m[1]), waitSeconds: Number(m[2]) };
}

function positive(text: string, field: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new AppError('NOTIFY_INVALID_INPUT', `${field} must be a positive number`, { field });
  return Number(text);
}

export function registerAlert(program: Command, ctx: CliContext): void {
  const alert = program.command('alert').description('alerts to unreachable recipients (call, page, email)');
  const n = () => ctx.svc.notifier;
  const userName = async (id: number) => (await ctx.svc.accounts.userById(id))?.username ?? `#${id}`;
  const summary = async (a: Alert) => {
    const steps = (await n().show(a.id)).steps;
    return {
      id: a.id,
      user: await userName(a.recipientId),
      state: a.state,
      created: when(a.createdAt),
      steps: `${steps.filter((s) => s.state === 'delivered').length}/${steps.length} delivered`,
      reason: a.reason,
    };
  };

  alert
    .command('list')
    .description('recent alerts, newest first')
    .option('--user <user>', "only this user's alerts")
    .option('--state <state>', `only alerts in this state (${STATES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '50')
    .action(async (o: { user?: string; state?: string; limit: string }) => {
      if (o.state !== undefined && !STATES.includes(o.state as AlertState))
        throw new AppError('NOTIFY_INVALID_INPUT', `state must be one of ${STATES.join(', ')}`, { field: 'state' });
      const list = await n().list({
        user: o.user,
        state: o.state as AlertState | undefined,
        limit: positive(o.limit, 'limit'),
      });
      ctx.table(await Promise.all(list.map(summary)), ['id', 'user', 'state', 'created', 'steps', 'reason'], list);
    });

  alert
    .command('show <id>')
    .description('one alert: its messages and every step of its ladder')
    .action(async (id: string) => {
      const v = await n().show(id);
      if (ctx.options.json) {
        ctx.io.out(`${JSON.stringify(v, null, 2)}\n`);
        return;
      }
      ctx.record({
        id: v.id,
        user: v.recipient,
        state: v.state,
        reason: v.reason,
        test: v.isTest ? 'yes' : 'no',
        created: when(v.createdAt),
        'first step at': when(v.collectUntil),
        ended: when(v.endedAt),
        messages: v.messages.map((m) => `${m.id} from ${m.fromName}`),
      });
      ctx.io.out('\n');
      ctx.table(
        v.steps.map((s) => ({
          step: s.position,
          channel: s.protocol ? `${s.channel}/${s.protocol}` : s.channel,
          address: s.address,
          state: s.state,
          attempts: s.attempts,
          due: when(s.dueAt),
          ended: when(s.endedAt),
          outcome: s.outcome,
          code: s.errorCode,
        })),
        ['step', 'channel', 'address', 'state', 'attempts', 'due', 'ended', 'outcome', 'code'],
      );
    });

  alert
    .command('cancel <id>')
    .description('stop an open alert: no further step')
    .action(async (id: string) => {
      const a = await n().cancel(id);
      ctx.done(`cancelled alert ${a.id}`, a);
    });

  alert
    .command('retry <id>')
    .description("run an ended alert's failed and cancelled steps again")
    .action(async (id: string) => {
      const a = await n().retry(id);
      ctx.done(`alert ${a.id} will run its failed steps again`, a);
    });

  alert
    .command('trace <message>')
    .description('every step of how a message was, or was not, delivered through alerts')
    .action(async (messageId: string) => {
      const events = await n().trace(messageId);
      if (ctx.options.json) {
        ctx.io.out(`${JSON.stringify(events, null, 2)}\n`);
        return;
      }
      if (events.length === 0) {
        ctx.io.out(
          `message ${messageId} never reached the notifier (its recipients had a link, or the id is unknown)\n`,
        );
        return;
      }
      for (const e of events) ctx.io.out(`${when(e.at)}  ${e.alertId}  ${e.what}\n`);
    });

  alert
    .command('test <user>')
    .description("fire the user's ladder now with a test message (a running server performs it)")
    .action(async (ref: string) => {
      const a = await n().test(ref);
      ctx.done(`test alert ${a.id} fired for ${await userName(a.recipientId)}`, a);
    });

  alert
    .command('ladder <user> [steps...]')
    .description(
      "show a user's escalation ladder, or set their own: device ids in order, each DEVICE_ID[:WAIT_SECONDS]",
    )
    .option('--default', "drop the user's own ladder: use the device registry's order")
    .option('--off', 'never alert this user (an empty ladder)')
    .action(async (ref: string, steps: string[], o: { default?: boolean; off?: boolean }) => {
      if ([o.default, o.off, steps.length > 0].filter(Boolean).length > 1)
        throw new AppError('NOTIFY_INVALID_INPUT', 'give steps, --default or --off, not more than one', {
          field: 'ladder',
        });
      if (o.default) await n().clearLadder(ref);
      else if (o.off) await n().setLadder(ref, []);
      else if (steps.length) await n().setLadder(ref, steps.map(parseStep));
      const l = await n().ladder(ref);
      if (!ctx.options.json)
        ctx.io.out(
          `ladder of ${l.user.username} (${l.source === 'user' ? 'their own' : 'default: the device registry'}):\n`,
        );
      ctx.table(
        l.steps.map((s, i) => ({
          step: i + 1,
          device: s.deviceId,
          channel: s.protocol ? `${s.channel}/${s.protocol}` : s.channel,
          address: s.address,
          'wait (s)': s.waitMs / 1000,
          quiet: s.quietStart ? `${s.quietStart}-${s.quietEnd}` : null,
        })),
        ['step', 'device', 'channel', 'address', 'wait (s)', 'quiet'],
        l,
      );
    });
}
