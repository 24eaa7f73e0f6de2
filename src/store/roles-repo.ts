/** Users' roles (accounts' RoleStore port) on SQLite. */
import type { Role, RoleStore } from '../accounts/roles.js';
import type { Db } from './db.js';

export class RolesRepo implements RoleStore {
  constructor(private readonly db: Db) {}

  async has(userId: number, role: Role): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM user_roles WHERE user_id = ? AND role = ?').get(userId, role) !== undefined;
  }

  async set(userId: number, role: Role, isGranted: boolean, now: number): Promise<boolean> {
    const r = isGranted
      ? this.db
          .prepare('INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
          .run(userId, role, now)
      : this.db.prepare('DELETE FROM user_roles WHERE user_id = ? AND role = ?').run(userId, role);
    return r.changes > 0;
  }
}
