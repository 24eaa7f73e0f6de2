/**
 * Roles a user holds beyond being a user. One for now: `admin`, which opens
 * the operator's view (/admin). Granted and revoked by the admin CLI only;
 * nothing a web client sends changes a role.
 */
import type { AccountService } from './account-service.js';
import type { RoleStore } from './ports.js';
import type { User } from './types.js';

export type { Role, RoleStore } from './ports.js';

export class Roles {
  constructor(
    private readonly store: RoleStore,
    private readonly accounts: Pick<AccountService, 'getUser'>,
    private readonly now: () => number,
  ) {}

  async isAdmin(userId: number): Promise<boolean> {
    return this.store.has(userId, 'admin');
  }

  /** The ids of every admin. */
  async admins(): Promise<Set<number>> {
    return new Set(await this.store.holders('admin'));
  }

  /** Grants or revokes the admin role of a user (by username or account number); returns the user and whether it changed. */
  async setAdmin(ref: string | number, isAdmin: boolean): Promise<{ user: User; changed: boolean }> {
    const user = await this.accounts.getUser(ref);
    const changed = await this.store.set(user.id, 'admin', isAdmin, this.now());
    return { user, changed };
  }
}
