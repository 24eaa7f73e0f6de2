/** Users' roles (accounts' RoleStore port) on SQLite. */
import type { Role } from '../../accounts/ports.js';
import type { Db } from './db.js';

/** Synchronous; offered as RoleStore through `promised` (index.ts). */
export class SqliteRoles {
  constructor(private readonly db: Db) {}

  has(userId: number, role: Role): boolean {
    return this.db.prepare('SELECT 1 FROM user_roles WHERE user_id = ? AND role = ?').get(userId, role) !== undefined;
  }

  set(userId: number, role: Role, isGranted: boolean, now: number): boolean {
    const r = isGranted
      ? this.db
          .prepare('INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
          .run(userId, role, now)
      : this.db.prepare('DELETE FROM user_roles WHERE user_id = ? AND role = ?').run(userId, role);
    return r.changes > 0;
  }

  holders(role: Role): number[] {
    const rows = this.db.prepare('SELECT user_id FROM user_roles WHERE role = ? ORDER BY user_id').all(role) as {
      user_id: number;
    }[];
    return rows.map((r) => r.user_id);
  }
}
