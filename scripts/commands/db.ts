import type { Command } from 'commander';
import { openStore, storeLocation } from '../../src/store/index.js';
import type { CliContext } from './cli-kit.js';

export function registerDb(program: Command, ctx: CliContext): void {
  const db = program.command('db').description('the store: its schema migrations');
  /** The store as configured, opened without migrating; closed after `fn`. */
  const withStore = async <T>(fn: (store: Awaited<ReturnType<typeof openStore>>, where: string) => Promise<T>) => {
    const config = ctx.config();
    const store = await openStore(config, { migrate: false });
    try {
      return await fn(store, storeLocation(config));
    } finally {
      await store.close();
    }
  };

  db.command('migrate')
    .description('apply pending migrations')
    .action(() =>
      withStore(async (store, where) => {
        const applied = await store.status.migrate();
        ctx.done(applied.length ? `applied migrations ${applied.join(', ')} to ${where}` : `${where} is up to date`, {
          path: where,
          applied,
        });
      }),
    );

  db.command('status')
    .description('show applied and pending migrations')
    .action(() =>
      withStore(async (store, where) => {
        const s = await store.status.migrationStatus();
        const rows = [
          ...s.applied.map((a) => ({ version: a.version, name: a.name, state: 'applied', at: a.appliedAt })),
          ...s.pending.map((p) => ({ version: p.version, name: p.name, state: 'pending', at: null })),
        ];
        ctx.table(rows, ['version', 'name', 'state', 'at'], { path: where, ...s });
      }),
    );
}
