/** Contacts, IM sessions and session objects, for operators (the same presence service as the server). */
import type { Command } from 'commander';
import { when, type CliContext } from './cli-kit.js';

export function registerPresence(program: Command, ctx: CliContext): void {
  const contact = program.command('contact').description("a user's contacts (buddy list)");

  contact
    .command('add <user> <other>')
    .description('make two users contacts of each other (both approved)')
    .action(async (a: string, b: string) => {
      const p = ctx.svc.presence;
      const ua = await ctx.svc.accounts.getUser(a);
      const ub = await ctx.svc.accounts.getUser(b);
      if ((await p.requestContact(ua.id, ub.id)) === 'requested') await p.approveContact(ub.id, ua.id);
      ctx.done(`${ua.username} and ${ub.username} are contacts`, { users: [ua.username, ub.username] });
    });

  contact
    .command('remove <user> <other>')
    .description('remove a contact, both ways')
    .action(async (a: string, b: string) => {
      const ua = await ctx.svc.accounts.getUser(a);
      const ub = await ctx.svc.accounts.getUser(b);
      await ctx.svc.presence.removeContact(ua.id, ub.id);
      ctx.done(`${ua.username} and ${ub.username} are no longer contacts`, { removed: [ua.username, ub.username] });
    });

  contact
    .command('list <user>')
    .description("a user's contacts with their presence, and requests waiting for the user")
    .action(async (ref: string) => {
      const u = await ctx.svc.accounts.getUser(ref);
      const list = await ctx.svc.presence.contacts(u.id);
      const requests = await ctx.svc.presence.contactRequests(u.id);
      ctx.table(
        [
          ...list.map((c) => ({
            username: c.username,
            name: c.displayName,
            subscription: c.subscription,
            presence: c.presence.state,
            status: c.presence.statusText,
          })),
          ...requests.map((r) => ({ username: r.username, name: r.displayName, subscription: 'asks you' })),
        ],
        ['username', 'name', 'subscription', 'presence', 'status'],
        { contacts: list, requests },
      );
    });

  const session = program.command('session').description('IM sessions and session objects');

  session
    .command('list <user>')
    .description('the IM sessions a user is invited to or has joined')
    .action(async (ref: string) => {
      const u = await ctx.svc.accounts.getUser(ref);
      const list = await ctx.svc.presence.sessionsOf(u.id);
      const names = new Map<number, string>();
      for (const id of new Set(list.flatMap((s) => [s.ownerId, ...s.members.map((m) => m.userId)])))
        names.set(id, (await ctx.svc.accounts.userById(id))?.username ?? String(id));
      const name = (id: number) => names.get(id) ?? String(id);
      const rows = [];
      for (const s of list)
        rows.push({
          id: s.id,
          owner: name(s.ownerId),
          members: s.members.map((m) => `${name(m.userId)} (${m.state})`).join(', '),
          created: when(s.createdAt),
          unread: (await ctx.svc.presence.unread(u.id, s.id)).length,
        });
      ctx.table(rows, ['id', 'owner', 'members', 'unread', 'created'], list);
    });

  session
    .command('objects <user>')
    .description("a user's session objects (resumable clients) and the node holding each")
    .action(async (ref: string) => {
      const u = await ctx.svc.accounts.getUser(ref);
      const list = (await ctx.svc.presence.objects.ofUser(u.id)).map(({ csrf: _csrf, ...o }) => o);
      ctx.table(
        list.map((o) => ({ id: o.id, client: o.client, node: o.nodeId, lastSeen: when(o.lastSeenAt) })),
        ['id', 'client', 'node', 'lastSeen'],
        list,
      );
    });

  session
    .command('end <objectId>')
    .description('end a session object: its client must log in again')
    .action(async (id: string) => {
      const ended = await ctx.svc.presence.objects.end(id);
      ctx.done(ended ? `ended ${id}` : `no session object ${id}`, { ended });
    });
}
