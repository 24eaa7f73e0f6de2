/** The account server's storage (AccountStore) on PostgreSQL: users, credentials, log-on tries, caller IDs, devices. */
import type {
  AccountStore,
  CredentialRow,
  DevicePatch,
  NewDeviceRow,
  NewUserRow,
  TryReservation,
  TryTarget,
  UserPatch,
} from '../../accounts/ports.js';
import type { CredentialKind, Device, DeviceKind, User } from '../../accounts/types.js';
import { AppError } from '../../core/errors.js';
import { type Executor, isUniqueViolation, type PgDb } from './db.js';

import { type DeviceRow, toDevice, toUser, TRIES_IDLE_MS, type UserRow } from '../rows/accounts.js';

const USER_COLS = 'id, username, account_number, display_name, spoken_name, time_zone, language, created_at';
const DEVICE_COLS = 'id, user_id, kind, address, protocol, label, position, quiet_start, quiet_end, asterisk_device';

/** A unique constraint that failed, as the account server's conflict; anything else as it is. */
function conflict(e: unknown, userExists: string): unknown {
  if (isUniqueViolation(e, 'caller_ids'))
    return new AppError('ACCOUNTS_CALLER_ID_TAKEN', 'a caller ID is already bound to another user', undefined, {
      cause: e,
    });
  if (isUniqueViolation(e, 'users'))
    return new AppError('ACCOUNTS_USER_EXISTS', userExists || 'the user already exists', undefined, { cause: e });
  return e;
}

export class PgAccounts implements AccountStore {
  constructor(private readonly db: PgDb) {}

  async insertUser(row: NewUserRow): Promise<User> {
    try {
      return await this.db.tx(async (c) => {
        const u = (await this.db.row<UserRow>(
          `INSERT INTO users (username, account_number, display_name, spoken_name, time_zone, created_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${USER_COLS}`,
          [row.username, row.accountNumber, row.displayName, row.spokenName, row.timeZone, row.createdAt],
          c,
        )) as UserRow;
        for (const cr of row.credentials) await this.putCredential(u.id, cr.kind, cr.hash, row.createdAt, c);
        for (const n of row.callerIds)
          await c.query('INSERT INTO caller_ids (number, user_id, created_at) VALUES ($1, $2, $3)', [
            n,
            u.id,
            row.createdAt,
          ]);
        return toUser(u);
      });
    } catch (e) {
      throw conflict(e, `user "${row.username}" already exists`);
    }
  }

  private async userWhere(where: string, value: unknown): Promise<User | null> {
    const r = await this.db.row<UserRow>(`SELECT ${USER_COLS} FROM users WHERE ${where}`, [value]);
    return r ? toUser(r) : null;
  }

  userById(id: number): Promise<User | null> {
    return this.userWhere('id = $1', id);
  }

  userByUsername(username: string): Promise<User | null> {
    return this.userWhere('username = $1', username);
  }

  userByAccountNumber(accountNumber: string): Promise<User | null> {
    return this.userWhere('account_number = $1', accountNumber);
  }

  userByCallerId(number: string): Promise<User | null> {
    return this.userWhere('id = (SELECT user_id FROM caller_ids WHERE number = $1)', number);
  }

  async listUsers(): Promise<User[]> {
    // COLLATE "C": byte order, as SQLite sorts text.
    return (await this.db.rows<UserRow>(`SELECT ${USER_COLS} FROM users ORDER BY username COLLATE "C"`)).map(toUser);
  }

  async accountNumberTaken(accountNumber: string): Promise<boolean> {
    return (await this.db.row('SELECT 1 FROM users WHERE account_number = $1', [accountNumber])) !== null;
  }

  async deleteUser(id: number): Promise<boolean> {
    return (await this.db.count('DELETE FROM users WHERE id = $1', [id])) > 0;
  }

  async updateUser(id: number, fields: UserPatch): Promise<void> {
    await this.db.pool.query(
      `UPDATE users SET display_name = COALESCE($2, display_name), spoken_name = COALESCE($3, spoken_name),
         time_zone = COALESCE($4, time_zone) WHERE id = $1`,
      [id, fields.displayName ?? null, fields.spokenName ?? null, fields.timeZone ?? null],
    );
  }

  async credentialsVersion(): Promise<number> {
    // BIGINT comes back as a string; a version stays well within 2^53.
    return Number((await this.db.row<{ v: string }>('SELECT version AS v FROM credentials_version WHERE id = 1'))?.v);
  }

  async setLanguage(id: number, language: string | null): Promise<boolean> {
    return (await this.db.count('UPDATE users SET language = $2 WHERE id = $1', [id, language])) > 0;
  }

  // ---- credentials ----------------------------------------------------------

  credential(userId: number, kind: CredentialKind): Promise<CredentialRow | null> {
    return this.db.row<CredentialRow>(
      'SELECT hash, failed_count AS "failedCount", locked_until AS "lockedUntil" FROM credentials WHERE user_id = $1 AND kind = $2',
      [userId, kind],
    );
  }

  private async putCredential(
    userId: number,
    kind: CredentialKind,
    hash: string,
    now: number,
    on: Executor,
  ): Promise<void> {
    await on.query(
      `INSERT INTO credentials (user_id, kind, hash, failed_count, locked_until, updated_at) VALUES ($1, $2, $3, 0, NULL, $4)
       ON CONFLICT (user_id, kind) DO UPDATE SET hash = excluded.hash, failed_count = 0, locked_until = NULL,
         updated_at = excluded.updated_at`,
      [userId, kind, hash, now],
    );
  }

  upsertCredential(userId: number, kind: CredentialKind, hash: string, now: number): Promise<void> {
    return this.putCredential(userId, kind, hash, now, this.db.pool);
  }

  /**
   * One try reserved under the row's lock (SELECT ... FOR UPDATE): tries
   * arriving at once on any number of nodes take turns, so at most
   * `maxTries` are checked per lock-out window.
   */
  reserveTry(target: TryTarget, now: number, maxTries: number, lockUntil: number): Promise<TryReservation> {
    const byKey = 'key' in target;
    const table = byKey ? 'logon_tries' : 'credentials';
    const where = byKey ? 'key = $1' : 'user_id = $1 AND kind = $2';
    const args: unknown[] = byKey ? [target.key] : [target.userId, target.kind];
    return this.db.tx(async (c): Promise<TryReservation> => {
      if (byKey) {
        // Rows another try holds are left for a later prune: no waiting, no deadlock.
        await c.query(
          `DELETE FROM logon_tries WHERE key IN (SELECT key FROM logon_tries
             WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $2) FOR UPDATE SKIP LOCKED)`,
          [now - TRIES_IDLE_MS, now],
        );
        await c.query(
          'INSERT INTO logon_tries (key, failed_count, updated_at) VALUES ($1, 0, $2) ON CONFLICT DO NOTHING',
          [target.key, now],
        );
      }
      const row = await this.db.row<{ n: number; lockedUntil: number | null }>(
        `SELECT failed_count AS n, locked_until AS "lockedUntil" FROM ${table} WHERE ${where} FOR UPDATE`,
        args,
        c,
      );
      if (!row) return { ok: false, lockedUntil: now };
      if (row.lockedUntil !== null && row.lockedUntil > now) return { ok: false, lockedUntil: row.lockedUntil };
      const n = (row.lockedUntil !== null ? 0 : row.n) + 1;
      const locks = n >= maxTries;
      const k = args.length;
      await c.query(
        `UPDATE ${table} SET failed_count = $${k + 1}, locked_until = $${k + 2}${byKey ? `, updated_at = $${k + 3}` : ''}
         WHERE ${where}`,
        [...args, locks ? 0 : n, locks ? lockUntil : null, ...(byKey ? [now] : [])],
      );
      return { ok: true, failedCount: n, lockedUntil: locks ? lockUntil : null };
    });
  }

  async clearFailures(userId: number, kind?: CredentialKind): Promise<void> {
    if (kind)
      await this.db.pool.query(
        'UPDATE credentials SET failed_count = 0, locked_until = NULL WHERE user_id = $1 AND kind = $2',
        [userId, kind],
      );
    else
      await this.db.pool.query('UPDATE credentials SET failed_count = 0, locked_until = NULL WHERE user_id = $1', [
        userId,
      ]);
  }

  // ---- caller IDs -------------------------------------------------------------

  async insertCallerId(userId: number, number: string, now: number): Promise<void> {
    try {
      await this.db.pool.query('INSERT INTO caller_ids (number, user_id, created_at) VALUES ($1, $2, $3)', [
        number,
        userId,
        now,
      ]);
    } catch (e) {
      throw conflict(e, '');
    }
  }

  async deleteCallerId(userId: number, number: string): Promise<boolean> {
    return (await this.db.count('DELETE FROM caller_ids WHERE user_id = $1 AND number = $2', [userId, number])) > 0;
  }

  async callerIdOwner(number: string): Promise<number | null> {
    return (
      (await this.db.row<{ id: number }>('SELECT user_id AS id FROM caller_ids WHERE number = $1', [number]))?.id ??
      null
    );
  }

  async callerIds(userId: number): Promise<string[]> {
    return (
      await this.db.rows<{ number: string }>(
        'SELECT number FROM caller_ids WHERE user_id = $1 ORDER BY created_at, number COLLATE "C"',
        [userId],
      )
    ).map((r) => r.number);
  }

  // ---- device registry ----------------------------------------------------------

  async devices(userId: number): Promise<Device[]> {
    return (
      await this.db.rows<DeviceRow>(`SELECT ${DEVICE_COLS} FROM devices WHERE user_id = $1 ORDER BY position, id`, [
        userId,
      ])
    ).map(toDevice);
  }

  async device(id: number): Promise<Device | null> {
    const r = await this.db.row<DeviceRow>(`SELECT ${DEVICE_COLS} FROM devices WHERE id = $1`, [id]);
    return r ? toDevice(r) : null;
  }

  async deviceExists(userId: number, kind: DeviceKind, address: string): Promise<boolean> {
    return (
      (await this.db.row('SELECT 1 FROM devices WHERE user_id = $1 AND kind = $2 AND address = $3', [
        userId,
        kind,
        address,
      ])) !== null
    );
  }

  /** The user's row is locked while the next position is chosen: two nodes adding at once get two positions. */
  insertDevice(userId: number, d: NewDeviceRow, now: number): Promise<Device> {
    return this.db.tx(async (c) => {
      await c.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId]);
      const r = (await this.db.row<DeviceRow>(
        `INSERT INTO devices (user_id, kind, address, protocol, label, position, quiet_start, quiet_end, asterisk_device, created_at)
         VALUES ($1, $2, $3, $4, $5, (SELECT COALESCE(MAX(position), 0) + 1 FROM devices WHERE user_id = $1), $6, $7, $8, $9)
         RETURNING ${DEVICE_COLS}`,
        [userId, d.kind, d.address, d.protocol, d.label, d.quietStart, d.quietEnd, d.asteriskDevice, now],
        c,
      )) as DeviceRow;
      return toDevice(r);
    });
  }

  async updateDevice(id: number, patch: DevicePatch): Promise<void> {
    const col = { label: 'label', quietStart: 'quiet_start', quietEnd: 'quiet_end', asteriskDevice: 'asterisk_device' };
    const sets: string[] = [];
    const values: (string | null)[] = [];
    for (const [k, c] of Object.entries(col) as [keyof DevicePatch, string][])
      if (patch[k] !== undefined) {
        values.push(patch[k] as string | null);
        sets.push(`${c} = $${values.length + 1}`);
      }
    if (sets.length > 0)
      await this.db.pool.query(`UPDATE devices SET ${sets.join(', ')} WHERE id = $1`, [id, ...values]);
  }

  async phonesOnAsteriskDevice(name: string): Promise<Device[]> {
    return (
      await this.db.rows<DeviceRow>(
        `SELECT ${DEVICE_COLS} FROM devices WHERE asterisk_device = $1 AND kind = 'phone' ORDER BY id`,
        [name],
      )
    ).map(toDevice);
  }

  deleteDevice(userId: number, id: number): Promise<boolean> {
    return this.db.tx(async (c) => {
      await c.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId]);
      const gone = await this.db.row<{ position: number }>(
        'DELETE FROM devices WHERE id = $1 AND user_id = $2 RETURNING position',
        [id, userId],
        c,
      );
      if (!gone) return false;
      await c.query('UPDATE devices SET position = position - 1 WHERE user_id = $1 AND position > $2', [
        userId,
        gone.position,
      ]);
      return true;
    });
  }

  async reorderDevices(userId: number, ids: number[]): Promise<void> {
    await this.db.pool.query(
      `UPDATE devices d SET position = o.pos FROM unnest($2::int[]) WITH ORDINALITY AS o(id, pos)
       WHERE d.id = o.id AND d.user_id = $1`,
      [userId, ids],
    );
  }
}
