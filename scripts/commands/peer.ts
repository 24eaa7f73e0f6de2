/** phonectl peer: the registry of peer communities, and this community's own identity. */
import type { Command } from 'commander';
import type { CliContext } from './cli-kit.js';
import { when } from './cli-kit.js';

export function registerPeer(program: Command, ctx: CliContext): void {
  const peer = program.command('peer').description('peer communities (federation)');

  peer
    .command('whoami')
    .description("this community's name, URL and public key: what another provider needs to add it")
    .action(() => {
      const me = ctx.svc.federation.whoami();
      ctx.record({ name: me.name, displayName: me.displayName, url: me.url, publicKey: me.publicKey });
    });

  peer
    .command('add <name> <url> <publicKey>')
    .description('add (or update) a peer: its domain, its base URL and its public key (from its peer whoami)')
    .action(async (name: string, url: string, publicKey: string) => {
      const p = await ctx.svc.federation.addPeer({ name, url, publicKey });
      ctx.done(`peer ${p.name} added (${p.baseUrl})`, p);
    });

  peer
    .command('list')
    .description('list peers')
    .action(async () => {
      const peers = await ctx.svc.federation.peers();
      ctx.table(
        peers.map((p) => ({ ...p, lastOk: when(p.lastOkAt) })),
        ['name', 'baseUrl', 'state', 'queued', 'lastOk', 'lastError'],
        peers,
      );
    });

  peer
    .command('show <name>')
    .description('one peer, with its key and its queue')
    .action(async (name: string) => {
      const p = await ctx.svc.federation.peer(name);
      ctx.record({ ...p, addedAt: when(p.addedAt), lastOkAt: when(p.lastOkAt) });
    });

  peer
    .command('remove <name>')
    .description('remove a peer and drop its queue')
    .action(async (name: string) => {
      await ctx.svc.federation.removePeer(name);
      ctx.done(`peer ${name} removed`, { name, removed: true });
    });

  peer
    .command('ping <name>')
    .description('a signed round trip to the peer')
    .action(async (name: string) => {
      const r = await ctx.svc.federation.ping(name);
      ctx.done(`${r.peer} answered in ${r.ms} ms`, r);
    });
}
