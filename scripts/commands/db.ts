import type { Command } from 'commander';
import { dbPath } from '../../src/app.js';
import { migrate, migrationStatus, openDb } from '../../src/store/db.js';
import type { CliContext } from './cli-kit.js';

export function registerDb(program: Command, ctx: CliContext): void {
  const db = program.command('db').description('the SQLite store');

  db.command('migrate')
    .description('apply pending migrations')
    .action(() => {
      const path = dbPath(ctx.config());
      const handle = openDb({ path });
      try {
        const applied = migrate(handle);
        ctx.done(applied.length ? `applied migrations ${applied.join(', ')} to ${path}` : `${path} is up to date`, {
          path,
          applied,
        });
      } finally {
        handle.close();
      }
    });

  db.command('status')
    .description('show applied and pending migrations')
    .action(() => {
      const path = dbPath(ctx.config());
      const handle = openDb({ path });
      try {
        const s = migrationStatus(handle);
        const rows = [
          ...s.applied.map((a) => ({ version: a.version, name: a.name, state: 'applied', at: a.appliedAt })),
          ...s.pending.map((p) => ({ version: p.version, name: p.name, state: 'pending', at: null })),
        ];
        ctx.table(rows, ['version', 'name', 'state', 'at'], { path, ...s });
      } finally {
        handle.close();
      }
    });
}
