import type { Command } from 'commander';
import type { Device } from '../../src/accounts/types.js';
import { AppError } from '../../src/core/errors.js';
import type { CliContext } from './cli-kit.js';

const row = (d: Device) => ({
  id: d.id,
  order: d.position,
  kind: d.kind,
  protocol: d.protocol,
  address: d.address,
  label: d.label,
  quiet: d.quietStart ? `${d.quietStart}-${d.quietEnd}` : null,
  asterisk: d.asteriskDevice,
});

const columns = ['order', 'id', 'kind', 'protocol', 'address', 'label', 'quiet', 'asterisk'];

function deviceId(text: string): number {
  if (!/^\d+$/.test(text))
    throw new AppError('ACCOUNTS_INVALID_INPUT', `device id "${text}" is not a number`, { field: 'device id' });
  return Number(text);
}

export function registerDevice(program: Command, ctx: CliContext): void {
  const device = program.command('device').description("a user's device registry (phones, pagers, email)");

  device
    .command('add <user> <kind> <address>')
    .description('register a device: kind is phone, pager or email')
    .option('--protocol <p>', 'pager protocol: snpp, smpp or email', undefined)
    .option('--label <text>', 'a label ("mobile", "desk")')
    .option('--quiet <HH:MM-HH:MM>', "quiet hours in the user's time zone")
    .option('--asterisk-device <name>', 'phones: its Asterisk device (PJSIP/bob-desk) or hint (201@phoneim-hints)')
    .action(
      async (
        ref: string,
        kind: string,
        address: string,
        o: { protocol?: string; label?: string; quiet?: string; asteriskDevice?: string },
      ) => {
        const d = await ctx.svc.accounts.addDevice(ref, {
          kind,
          address,
          protocol: o.protocol,
          label: o.label,
          quietHours: o.quiet,
          asteriskDevice: o.asteriskDevice,
        });
        ctx.done(`added ${d.kind} ${d.address} as device ${d.id} (order ${d.position})`, d);
      },
    );

  device
    .command('set <user> <id>')
    .description('change a device: label, quiet hours, Asterisk device ("none" clears one)')
    .option('--label <text>', 'a label ("mobile", "desk")')
    .option('--quiet <HH:MM-HH:MM>', "quiet hours in the user's time zone")
    .option('--asterisk-device <name>', 'phones: its Asterisk device (PJSIP/bob-desk) or hint (201@phoneim-hints)')
    .action(async (ref: string, id: string, o: { label?: string; quiet?: string; asteriskDevice?: string }) => {
      const clear = (v: string | undefined) => (v === 'none' ? null : v);
      if (o.label === undefined && o.quiet === undefined && o.asteriskDevice === undefined)
        throw new AppError('ACCOUNTS_INVALID_INPUT', 'nothing to change: give --label, --quiet or --asterisk-device', {
          field: 'device',
        });
      const d = await ctx.svc.accounts.setDevice(ref, deviceId(id), {
        label: clear(o.label),
        quietHours: clear(o.quiet),
        asteriskDevice: clear(o.asteriskDevice),
      });
      ctx.table([row(d)], columns, d);
    });

  device
    .command('list <user>')
    .description('list devices in escalation order')
    .action(async (ref: string) => {
      const list = await ctx.svc.accounts.listDevices(ref);
      ctx.table(list.map(row), columns, list);
    });

  device
    .command('remove <user> <id>')
    .description('remove a device')
    .action(async (ref: string, id: string) => {
      await ctx.svc.accounts.removeDevice(ref, deviceId(id));
      ctx.done(`removed device ${id}`, { removed: Number(id) });
    });

  device
    .command('order <user> <ids...>')
    .description('set the escalation order: every device id, first to last')
    .action(async (ref: string, ids: string[]) => {
      const list = await ctx.svc.accounts.orderDevices(ref, ids.map(deviceId));
      ctx.table(list.map(row), columns, list);
    });
}
