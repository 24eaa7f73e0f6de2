/**
 * What operators see of the store, whatever its backend: the schema version
 * and migrations (`phonectl db status|migrate`, /health) and whether it takes
 * writes now (/ready). The store (src/store) implements it.
 */

export type StoreKind = 'sqlite' | 'postgres';

export interface MigrationStatus {
  /** The newest migration applied (0: none). */
  current: number;
  applied: { version: number; name: string; appliedAt: string }[];
  /** Known to this build and not applied yet, in number order. */
  pending: { version: number; name: string }[];
}

export interface StoreStatus {
  readonly kind: StoreKind;
  /** The newest migration applied (what /health reports). */
  schemaVersion(): Promise<number>;
  /**
   * Whether the store takes writes now (a read-only file, a full disk, a lost
   * connection or a closed store answer false). Never rejects.
   */
  isWritable(): Promise<boolean>;
  /**
   * Applied and pending migrations. Rejects with STORE_SCHEMA_TOO_NEW when
   * the store records a migration this build does not know.
   */
  migrationStatus(): Promise<MigrationStatus>;
  /**
   * Applies every pending migration, each atomically, in number order;
   * returns the versions applied. Rejects with STORE_MIGRATION_FAILED (the
   * failed one and those after it are not applied) or STORE_SCHEMA_TOO_NEW.
   */
  migrate(): Promise<number[]>;
}
