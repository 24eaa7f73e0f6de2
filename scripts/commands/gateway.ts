/** The XMPP gateway, for operators: its connection as each node last recorded it, and its queue. */
import type { Command } from 'commander';
import { type CliContext, when } from './cli-kit.js';

export function registerGateway(program: Command, ctx: CliContext): void {
  const gateway = program.command('gateway').description('the gateway to an outside IM service (XMPP)');

  gateway
    .command('status')
    .description('the XMPP component connection of each node, contacts, and messages queued or sent')
    .action(async () => {
      const xmpp = ctx.svc.config.gateway.xmpp;
      const store = ctx.svc.store.gateway;
      const nodes = await store.statuses();
      const counts = await store.counts();
      const json = {
        configured: xmpp !== undefined,
        ...(xmpp ? { server: `${xmpp.host}:${xmpp.port}`, domain: xmpp.domain } : {}),
        nodes,
        ...counts,
      };
      const lines = [
        xmpp
          ? `XMPP gateway ${xmpp.domain} on ${xmpp.host}:${xmpp.port}`
          : 'XMPP gateway: not configured (gateway.xmpp)',
        ...nodes.map(
          (n) =>
            `node ${n.nodeId}: ${n.state} since ${when(n.since)}, ${n.connects} connection(s)${n.lastError ? `, last error: ${n.lastError}` : ''}`,
        ),
        `contacts: ${counts.contacts} (${counts.approved} approved subscriptions)`,
        `messages to XMPP: ${counts.queued} queued, ${counts.sent} sent`,
      ];
      ctx.done(lines.join('\n'), json);
    });
}
