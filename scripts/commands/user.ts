import type { Command } from 'commander';
import type { User } from '../../src/accounts/types.js';
import { AppError } from '../../src/core/errors.js';
import { type CliContext, when } from './cli-kit.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

const row = (u: User) => ({
  username: u.username,
  account: u.accountNumber,
  name: u.displayName,
  spoken: u.spokenName,
  tz: u.timeZone,
  ...(u.language ? { language: u.language } : {}),
});

export function registerUser(program: Command, ctx: CliContext): void {
  const user = program.command('user').description('users and their credentials');

  user
    .command('add <username>')
    .description('create a user')
    .requiredOption('--name <display name>', 'display name')
    .option('--spoken-name <text>', 'how the speech engine says the name (default: display name)')
    .option('--tz <zone>', 'IANA time zone', 'UTC')
    .option('--account-number <digits>', 'account number for log-on from unknown phones (default: generated)')
    .option('--caller-id <number>', 'a caller-ID number bound to the user (repeatable)', collect)
    .option('--pin <digits>', 'phone PIN (prefer --pin-stdin)')
    .option('--pin-stdin', 'read the phone PIN from standard input')
    .option('--password-stdin', 'read the web password from standard input')
    .option('--admin', "grant the admin role (the operator's view at /admin)")
    .action(async (username: string, o: Record<string, string | string[] | boolean | undefined>) => {
      const pin = o.pinStdin ? await ctx.readSecret() : (o.pin as string | undefined);
      const password = o.passwordStdin ? await ctx.readSecret() : undefined;
      const u = await ctx.svc.accounts.createUser({
        username,
        displayName: o.name as string,
        ...(o.spokenName ? { spokenName: o.spokenName as string } : {}),
        timeZone: o.tz as string,
        ...(o.accountNumber ? { accountNumber: o.accountNumber as string } : {}),
        callerIds: (o.callerId as string[] | undefined) ?? [],
        ...(pin !== undefined ? { pin } : {}),
        ...(password !== undefined ? { password } : {}),
      });
      if (o.admin === true) await ctx.svc.roles.setAdmin(u.id, true);
      ctx.done(
        `created user ${u.username} (account number ${u.accountNumber})${o.admin === true ? ', an admin' : ''}`,
        {
          ...u,
          callerIds: await ctx.svc.accounts.callerIds(u.id),
          isAdmin: o.admin === true,
        },
      );
    });

  user
    .command('list')
    .description('list users')
    .action(async () => {
      const users = await ctx.svc.accounts.listUsers();
      const admins = await ctx.svc.roles.admins();
      const rows = users.map((u) => ({ ...row(u), admin: admins.has(u.id) ? 'yes' : 'no' }));
      ctx.table(
        rows,
        ['username', 'account', 'name', 'tz', 'admin'],
        users.map((u) => ({ ...u, isAdmin: admins.has(u.id) })),
      );
    });

  user
    .command('show <user>')
    .description('show one user (by username or account number)')
    .action(async (ref: string) => {
      const a = ctx.svc.accounts;
      const u = await a.getUser(ref);
      const locks = await a.lockState(u.id);
      const lockText = (k: 'pin' | 'password') => {
        const l = locks.find((x) => x.kind === k);
        if (!l?.isSet) return 'not set';
        return l.lockedUntil ? `locked until ${when(l.lockedUntil)}` : `set (${l.failedCount} failed tries)`;
      };
      ctx.record({
        ...row(u),
        callerIds: await a.callerIds(u.id),
        pin: lockText('pin'),
        password: lockText('password'),
        devices: (await a.devicesOf(u.id)).length,
        admin: (await ctx.svc.roles.isAdmin(u.id)) ? 'yes' : 'no',
        created: when(u.createdAt),
      });
    });

  user
    .command('remove <user>')
    .description('remove a user and everything bound to them')
    .action(async (ref: string) => {
      const u = await ctx.svc.accounts.removeUser(ref);
      ctx.done(`removed user ${u.username}`, { removed: u.username });
    });

  user
    .command('set-pin <user> [pin]')
    .description('set the phone PIN (read from standard input when not given)')
    .action(async (ref: string, pin: string | undefined) => {
      await ctx.svc.accounts.setPin(ref, pin ?? (await ctx.readSecret()));
      ctx.done(`PIN set for ${ref}`, { user: ref, pin: 'set' });
    });

  user
    .command('set-password <user>')
    .description('set the web password (read from standard input); every session of the user ends')
    .action(async (ref: string) => {
      await ctx.svc.accounts.setPassword(ref, await ctx.readSecret());
      // An administrator's reset is for a lost or stolen password: no client keeps the old one's session.
      const ended = (await ctx.svc.presence.objects.endAllOf((await ctx.svc.accounts.getUser(ref)).id)).length;
      ctx.done(`password set for ${ref}; ${ended} session(s) ended`, {
        user: ref,
        password: 'set',
        endedSessions: ended,
      });
    });

  user
    .command('set-language <user> <language>')
    .description(
      'the language (BCP 47: en, es, fr-CA, de, ...) the user is spoken and written to in; "default" clears it',
    )
    .action(async (ref: string, language: string) => {
      const u = await ctx.svc.accounts.setLanguage(ref, language === 'default' ? null : language);
      const effective = u.language ?? ctx.svc.config.language.default;
      ctx.done(`${u.username} now hears and reads ${effective}${u.language ? '' : ' (the default)'}`, {
        user: u.username,
        language: u.language ?? null,
        effective,
      });
    });

  user
    .command('set-admin <user> <on|off>')
    .description("grant (on) or revoke (off) the admin role: the operator's view at /admin")
    .action(async (ref: string, value: string) => {
      if (value !== 'on' && value !== 'off')
        throw new AppError('ACCOUNTS_INVALID_INPUT', `say "on" or "off", not "${value.slice(0, 16)}"`);
      const { user: u, changed } = await ctx.svc.roles.setAdmin(ref, value === 'on');
      const now = value === 'on' ? 'is an admin' : 'is not an admin';
      ctx.done(`${u.username} ${now}${changed ? '' : ' (unchanged)'}`, {
        user: u.username,
        isAdmin: value === 'on',
        changed,
      });
    });

  user
    .command('unlock <user>')
    .description('clear failed tries and any lock-out')
    .action(async (ref: string) => {
      const u = await ctx.svc.accounts.unlock(ref);
      ctx.done(`unlocked ${u.username}`, { unlocked: u.username });
    });

  user
    .command('add-caller-id <user> <number>')
    .description('bind a caller-ID number to the user')
    .action(async (ref: string, number: string) => {
      const n = await ctx.svc.accounts.addCallerId(ref, number);
      ctx.done(`caller ID ${n} bound to ${ref}`, { user: ref, callerId: n });
    });

  user
    .command('remove-caller-id <user> <number>')
    .description('unbind a caller-ID number')
    .action(async (ref: string, number: string) => {
      const removed = await ctx.svc.accounts.removeCallerId(ref, number);
      ctx.done(removed ? `caller ID removed from ${ref}` : `${ref} had no such caller ID`, { user: ref, removed });
    });
}
