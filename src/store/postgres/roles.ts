/** Users' roles (accounts' RoleStore port) on PostgreSQL. */
import type { Role, RoleStore } from '../../accounts/ports.js';
import type { PgDb } from './db.js';

export class PgRoles implements RoleStore {
  constructor(private readonly db: PgDb) {}

  async has(userId: number, role: Role): Promise<boolean> {
    return (
      (await this.db.row('SELECT 1 AS one FROM user_roles WHERE user_id = $1 AND role = $2', [userId, role])) !== null
    );
  }

  async set(userId: number, role: Role, isGranted: boolean, now: number): Promise<boolean> {
    const changed = isGranted
      ? await this.db.count(
          'INSERT INTO user_roles (user_id, role, granted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
          [userId, role, now],
        )
      : await this.db.count('DELETE FROM user_roles WHERE user_id = $1 AND role = $2', [userId, role]);
    return changed > 0;
  }

  async holders(role: Role): Promise<number[]> {
    const rows = await this.db.rows<{ user_id: string | number }>(
      'SELECT user_id FROM user_roles WHERE role = $1 ORDER BY user_id',
      [role],
    );
    return rows.map((r) => Number(r.user_id));
  }
}
