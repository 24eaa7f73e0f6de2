/**
 * Looking at what a store holds, from tests: through the presence port's read
 * methods (either backend), or the SQLite connection for the few tests that
 * look at the file's rows directly.
 */
import type { DeliveryState, StoredMessage } from '../../src/presence/types.js';
import type { Db } from '../../src/store/sqlite/db.js';
import type { SqliteStore, Store } from '../../src/store/index.js';

export function sqliteOf(store: Store): Db {
  if (store.kind !== 'sqlite') throw new Error(`this test reads SQLite rows; the store is ${store.kind}`);
  return (store as SqliteStore).db;
}

export interface MessageWithDeliveries extends StoredMessage {
  deliveries: { recipientId: number; state: DeliveryState }[];
}

/**
 * Every message the community has stored, in any session, oldest first, each
 * with its recipients' delivery states: read through the presence port
 * (message ids are the store's increasing ids, from 1 to maxMessageId), so
 * "nothing was written" holds on SQLite and PostgreSQL alike. For the small
 * stores of flow tests: more than `limit` ids throws rather than reads on.
 */
export async function storedMessages(store: Store, limit = 10_000): Promise<MessageWithDeliveries[]> {
  const max = await store.presence.maxMessageId();
  if (max > limit) throw new Error(`${max} message ids: more than the ${limit} this helper reads`);
  const out: MessageWithDeliveries[] = [];
  for (let id = 1; id <= max; id++) {
    const m = await store.presence.message(id);
    if (m) out.push({ ...m, deliveries: await store.presence.deliveryStates(id) });
  }
  return out;
}
