/**
 * The demo community that `make run` seeds (config.demo): Alice and Bob,
 * contacts of each other, and a chat in which Alice has left Bob two
 * messages, so that a simulated call from Bob's phone has something to hear.
 * Seeding is idempotent: what exists is left alone. The PINs are demo values
 * documented in the README (never logged).
 */
import type { AccountService } from '../accounts/account-service.js';
import type { User } from '../accounts/types.js';
import type { Logger } from '../core/logger.js';

export const DEMO_USERS = {
  bob: { displayName: 'Bob', pin: '2468', callerId: '+15550100101', accountNumber: '100001' },
  alice: { displayName: 'Alice', pin: '1357', callerId: '+15550100102', accountNumber: '100002' },
} as const;
export const DEMO_PASSWORD = 'demo-password';

interface DemoPresence {
  isContact(a: number, b: number): Promise<boolean>;
  requestContact(userId: number, targetId: number): Promise<'requested' | 'approved'>;
  approveContact(userId: number, fromUserId: number): Promise<void>;
  sessionsOf(userId: number): Promise<{ id: string }[]>;
  createSession(ownerId: number, inviteeIds: number[]): Promise<{ id: string }>;
  postMessage(input: { sessionId: string; fromUserId: number; text: string }): Promise<unknown>;
}

interface DemoSimulator {
  readonly controlUrl: string | undefined;
  readonly controlToken: string;
  readonly ariUrl: string;
  readonly devPhoneUrl?: string | undefined;
  /** Who the dev phone offers to call as. */
  readonly directory?: { name: string; number: string }[];
}

export async function seedDemo(
  svc: { accounts: AccountService; presence: DemoPresence; log: Logger },
  sim?: DemoSimulator,
): Promise<{ alice: User; bob: User }> {
  const { accounts, presence, log } = svc;
  const ensure = async (username: 'alice' | 'bob'): Promise<User> => {
    const existing = await accounts.findUser(username);
    if (existing) return existing;
    const d = DEMO_USERS[username];
    return accounts.createUser({
      username,
      displayName: d.displayName,
      pin: d.pin,
      password: DEMO_PASSWORD,
      callerIds: [d.callerId],
      accountNumber: d.accountNumber,
    });
  };
  const alice = await ensure('alice');
  const bob = await ensure('bob');
  if (
    !(await presence.isContact(alice.id, bob.id)) &&
    (await presence.requestContact(alice.id, bob.id)) === 'requested'
  )
    await presence.approveContact(bob.id, alice.id);
  if ((await presence.sessionsOf(bob.id)).length === 0) {
    const session = await presence.createSession(alice.id, [bob.id]);
    await presence.postMessage({
      sessionId: session.id,
      fromUserId: alice.id,
      text: 'Hi Bob, are you free for lunch?',
    });
    await presence.postMessage({ sessionId: session.id, fromUserId: alice.id, text: 'Call me when you can.' });
  }
  const control = sim?.controlUrl;
  for (const u of [DEMO_USERS.bob, DEMO_USERS.alice])
    if (sim?.directory && !sim.directory.some((d) => d.number === u.callerId))
      sim.directory.push({ name: u.displayName, number: u.callerId });
  // The simulator's token is a local developer's key to the dev phone, shown so the lines can be pasted.
  const auth = `-H 'authorization: Bearer ${sim?.controlToken}'`;
  log.info(
    {
      users: ['alice', 'bob'],
      bobCallerId: DEMO_USERS.bob.callerId,
      ...(control
        ? {
            devPhone: sim?.devPhoneUrl,
            placeCall: `curl -s -X POST ${control}/sim/calls ${auth} -H 'content-type: application/json' -d '{"from":"${DEMO_USERS.bob.callerId}","to":"100"}'`,
            pressKeys: `curl -s -X POST ${control}/sim/calls/<channelId>/keys ${auth} -H 'content-type: application/json' -d '{"digits":"<keys>"}'`,
          }
        : {}),
    },
    sim?.devPhoneUrl
      ? `demo community ready: open the dev phone at ${sim.devPhoneUrl} and call in as Bob (PINs in the README)`
      : 'demo community ready: call in as Bob (PINs in the README); every prompt the caller hears is logged',
  );
  return { alice, bob };
}
