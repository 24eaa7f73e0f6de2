/** The account server's storage (AccountStore) on SQLite: users, credentials, log-on tries, caller IDs, devices. */
import type {
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
import type { Db } from './db.js';

import { type DeviceRow, toDevice, toUser, TRIES_IDLE_MS, type UserRow } from '../rows/accounts.js';

/** A unique constraint that failed, as the account server's conflict; anything else as it is. */
function conflict(e: unknown, userExists: string): unknown {
  const text = String(e);
  if (/UNIQUE constraint failed: caller_ids/.test(text))
    return new AppError('ACCOUNTS_CALLER_ID_TAKEN', 'a caller ID is already bound to another user', undefined, {
      cause: e,
    });
  if (/UNIQUE constraint failed: users\./.test(text))
    return new AppError('ACCOUNTS_USER_EXISTS', userExists || 'the user already exists', undefined, { cause: e });
  return e;
}

/** Synchronous; offered as an AccountStore through `promised` (index.ts). */
export class SqliteAccounts {
  constructor(private readonly db: Db) {}

  private readonly userCols =
    'id, username, account_number, display_name, spoken_name, time_zone, language, created_at';

  insertUser(row: NewUserRow): User {
    try {
      return this.insertUserRows(row);
    } catch (e) {
      throw conflict(e, `user "${row.username}" already exists`);
    }
  }

  private insertUserRows(row: NewUserRow): User {
    return this.db.transaction(() => {
      const info = this.db
        .prepare(
          'INSERT INTO users (username, account_number, display_name, spoken_name, time_zone, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(row.username, row.accountNumber, row.displayName, row.spokenName, row.timeZone, row.createdAt);
      const id = Number(info.lastInsertRowid);
      for (const c of row.credentials) this.upsertCredential(id, c.kind, c.hash, row.createdAt);
      for (const n of row.callerIds) this.insertCallerId(id, n, row.createdAt);
      return this.userById(id) as User;
    })();
  }

  userById(id: number): User | null {
    const r = this.db.prepare(`SELECT ${this.userCols} FROM users WHERE id = ?`).get(id) as UserRow | undefined;
    return r ? toUser(r) : null;
  }

  userByUsername(username: string): User | null {
    const r = this.db.prepare(`SELECT ${this.userCols} FROM users WHERE username = ?`).get(username) as
      | UserRow
      | undefined;
    return r ? toUser(r) : null;
  }

  userByAccountNumber(accountNumber: string): User | null {
    const r = this.db.prepare(`SELECT ${this.userCols} FROM users WHERE account_number = ?`).get(accountNumber) as
      | UserRow
      | undefined;
    return r ? toUser(r) : null;
  }

  userByCallerId(number: string): User | null {
    const r = this.db
      .prepare(`SELECT ${this.userCols} FROM users WHERE id = (SELECT user_id FROM caller_ids WHERE number = ?)`)
      .get(number) as UserRow | undefined;
    return r ? toUser(r) : null;
  }

  listUsers(): User[] {
    return (this.db.prepare(`SELECT ${this.userCols} FROM users ORDER BY username`).all() as UserRow[]).map(toUser);
  }

  accountNumberTaken(accountNumber: string): boolean {
    return this.db.prepare('SELECT 1 FROM users WHERE account_number = ?').get(accountNumber) !== undefined;
  }

  deleteUser(id: number): boolean {
    return this.db.prepare('DELETE FROM users WHERE id = ?').run(id).changes > 0;
  }

  updateUser(id: number, fields: UserPatch): void {
    const cur = this.userById(id);
    if (!cur) return;
    this.db
      .prepare('UPDATE users SET display_name = ?, spoken_name = ?, time_zone = ? WHERE id = ?')
      .run(
        fields.displayName ?? cur.displayName,
        fields.spokenName ?? cur.spokenName,
        fields.timeZone ?? cur.timeZone,
        id,
      );
  }

  /** Sets (or, with null, clears: the community's default) a user's language. */
  credentialsVersion(): number {
    return (this.db.prepare('SELECT version FROM credentials_version WHERE id = 1').get() as { version: number })
      .version;
  }

  setLanguage(id: number, language: string | null): boolean {
    return this.db.prepare('UPDATE users SET language = ? WHERE id = ?').run(language, id).changes > 0;
  }

  // ---- credentials ----------------------------------------------------------

  credential(userId: number, kind: CredentialKind): CredentialRow | null {
    const r = this.db
      .prepare(
        'SELECT hash, failed_count AS failedCount, locked_until AS lockedUntil FROM credentials WHERE user_id = ? AND kind = ?',
      )
      .get(userId, kind) as CredentialRow | undefined;
    return r ?? null;
  }

  upsertCredential(userId: number, kind: CredentialKind, hash: string, now: number): void {
    this.db
      .prepare(
        `INSERT INTO credentials (user_id, kind, hash, failed_count, locked_until, updated_at) VALUES (?, ?, ?, 0, NULL, ?)
         ON CONFLICT (user_id, kind) DO UPDATE SET hash = excluded.hash, failed_count = 0, locked_until = NULL, updated_at = excluded.updated_at`,
      )
      .run(userId, kind, hash, now);
  }

  /**
   * Reserves one try before the secret is checked, in one immediate
   * transaction, so that however many tries arrive at once at most
   * `maxTries` are ever checked per lock-out window. A try counts as failed
   * until a success clears the count; the try that reaches `maxTries` locks
   * at once (a success among the reserved tries lifts the lock again).
   */
  reserveTry(target: TryTarget, now: number, maxTries: number, lockUntil: number): TryReservation {
    const byKey = 'key' in target;
    const where = byKey ? 'key = ?' : 'user_id = ? AND kind = ?';
    const args = byKey ? [target.key] : [target.userId, target.kind];
    const table = byKey ? 'logon_tries' : 'credentials';
    return this.db
      .transaction((): TryReservation => {
        if (byKey) {
          this.db
            .prepare('DELETE FROM logon_tries WHERE updated_at < ? AND (locked_until IS NULL OR locked_until < ?)')
            .run(now - TRIES_IDLE_MS, now);
          this.db
            .prepare('INSERT INTO logon_tries (key, failed_count, updated_at) VALUES (?, 0, ?) ON CONFLICT DO NOTHING')
            .run(target.key, now);
        }
        const row = this.db
          .prepare(`SELECT failed_count AS n, locked_until AS lockedUntil FROM ${table} WHERE ${where}`)
          .get(...args) as { n: number; lockedUntil: number | null } | undefined;
        if (!row) return { ok: false, lockedUntil: now };
        if (row.lockedUntil !== null && row.lockedUntil > now) return { ok: false, lockedUntil: row.lockedUntil };
        const n = (row.lockedUntil !== null ? 0 : row.n) + 1;
        const locks = n >= maxTries;
        const stamp = byKey ? ', updated_at = ?' : '';
        this.db
          .prepare(`UPDATE ${table} SET failed_count = ?, locked_until = ?${stamp} WHERE ${where}`)
          .run(locks ? 0 : n, locks ? lockUntil : null, ...(byKey ? [now] : []), ...args);
        return { ok: true, failedCount: n, lockedUntil: locks ? lockUntil : null };
      })
      .immediate();
  }

  clearFailures(userId: number, kind?: CredentialKind): void {
    if (kind)
      this.db
        .prepare('UPDATE credentials SET failed_count = 0, locked_until = NULL WHERE user_id = ? AND kind = ?')
        .run(userId, kind);
    else this.db.prepare('UPDATE credentials SET failed_count = 0, locked_until = NULL WHERE user_id = ?').run(userId);
  }

  // ---- caller IDs -------------------------------------------------------------

  insertCallerId(userId: number, number: string, now: number): void {
    try {
      this.db.prepare('INSERT INTO caller_ids (number, user_id, created_at) VALUES (?, ?, ?)').run(number, userId, now);
    } catch (e) {
      throw conflict(e, '');
    }
  }

  deleteCallerId(userId: number, number: string): boolean {
    return this.db.prepare('DELETE FROM caller_ids WHERE user_id = ? AND number = ?').run(userId, number).changes > 0;
  }

  callerIdOwner(number: string): number | null {
    const r = this.db.prepare('SELECT user_id AS id FROM caller_ids WHERE number = ?').get(number) as
      | { id: number }
      | undefined;
    return r?.id ?? null;
  }

  callerIds(userId: number): string[] {
    return (
      this.db.prepare('SELECT number FROM caller_ids WHERE user_id = ? ORDER BY created_at, number').all(userId) as {
        number: string;
      }[]
    ).map((r) => r.number);
  }

  // ---- device registry ----------------------------------------------------------

  private readonly deviceCols =
    'id, user_id, kind, address, protocol, label, position, quiet_start, quiet_end, asterisk_device';

  devices(userId: number): Device[] {
    return (
      this.db
        .prepare(`SELECT ${this.deviceCols} FROM devices WHERE user_id = ? ORDER BY position, id`)
        .all(userId) as DeviceRow[]
    ).map(toDevice);
  }

  device(id: number): Device | null {
    const r = this.db.prepare(`SELECT ${this.deviceCols} FROM devices WHERE id = ?`).get(id) as DeviceRow | undefined;
    return r ? toDevice(r) : null;
  }

  deviceExists(userId: number, kind: DeviceKind, address: string): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM devices WHERE user_id = ? AND kind = ? AND address = ?')
        .get(userId, kind, address) !== undefined
    );
  }

  insertDevice(userId: number, d: NewDeviceRow, now: number): Device {
    return this.db.transaction(() => {
      const next = this.db
        .prepare('SELECT COALESCE(MAX(position), 0) + 1 AS p FROM devices WHERE user_id = ?')
        .get(userId) as { p: number };
      const info = this.db
        .prepare(
          'INSERT INTO devices (user_id, kind, address, protocol, label, position, quiet_start, quiet_end, asterisk_device, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(userId, d.kind, d.address, d.protocol, d.label, next.p, d.quietStart, d.quietEnd, d.asteriskDevice, now);
      return this.device(Number(info.lastInsertRowid)) as Device;
    })();
  }

  /** Changes a device's label, quiet hours or Asterisk device (the fields given). */
  updateDevice(id: number, patch: DevicePatch): void {
    const sets: string[] = [];
    const values: (string | null)[] = [];
    const col = { label: 'label', quietStart: 'quiet_start', quietEnd: 'quiet_end', asteriskDevice: 'asterisk_device' };
    for (const [k, c] of Object.entries(col) as [keyof DevicePatch, string][])
      if (patch[k] !== undefined) {
        sets.push(`${c} = ?`);
        values.push(patch[k] as string | null);
      }
    if (sets.length > 0) this.db.prepare(`UPDATE devices SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
  }

  /** The phones tied to an Asterisk device or hint. */
  phonesOnAsteriskDevice(name: string): Device[] {
    return (
      this.db
        .prepare(`SELECT ${this.deviceCols} FROM devices WHERE asterisk_device = ? AND kind = 'phone' ORDER BY id`)
        .all(name) as DeviceRow[]
    ).map(toDevice);
  }

  /** Removes a device and closes the gap in the order. */
  deleteDevice(userId: number, id: number): boolean {
    return this.db.transaction(() => {
      const d = this.device(id);
      if (!d || d.userId !== userId) return false;
      this.db.prepare('DELETE FROM devices WHERE id = ?').run(id);
      this.db
        .prepare('UPDATE devices SET position = position - 1 WHERE user_id = ? AND position > ?')
        .run(userId, d.position);
      return true;
    })();
  }

  /** Sets the order to `ids` (every device of the user, each once). */
  reorderDevices(userId: number, ids: number[]): void {
    this.db.transaction(() => {
      const set = this.db.prepare('UPDATE devices SET position = ? WHERE id = ? AND user_id = ?');
      for (const [i, id] of ids.entries()) set.run(i + 1, id, userId);
    })();
  }
}
