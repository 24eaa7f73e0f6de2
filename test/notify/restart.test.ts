/**
 * A real SIGKILL in the middle of a ladder: the notifier runs in a child
 * process on the test store (a SQLite file, or PostgreSQL with
 * PHONEIM_TEST_STORE=postgres); the test kills it, starts a notifier again on
 * the same store, and looks at what the SNPP and SMTP servers received: every
 * step once, none lost, none repeated - and a step that was in progress at the
 * kill is not performed again (at most once), the ladder moves on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import t, { type Test } from 'tap';
import { buildServices } from '../../src/app.js';
import { SystemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { openStore } from '../../src/store/index.js';
import { restartConfig } from '../fixtures/notify-child-config.js';
import { entryArgs, ROOT, testConfig } from '../support/env.js';
import { readSnppLog, startSmtp, startSnpp, until } from '../support/notify.js';
import { openTestStore, testStoreOverrides } from '../support/store-backend.js';

function startChild(args: string[]): { child: ChildProcess; ready: Promise<string> } {
  // The build of the child when it is fresh (make test builds first): the TypeScript loader costs tens of seconds.
  const child = spawn(process.execPath, [...entryArgs('test/fixtures/notify-child.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve(out);
    });
    child.once('exit', (code, signal) => reject(new Error(`child exited early (${code ?? signal})`)));
  });
  return { child, ready };
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGKILL');
  });
}

async function setup(t: Test, dir: string, snppPort: number, smtpPort: number) {
  // On PostgreSQL the child, the restarted notifier and the test's own look all use this data directory's database.
  const onStore = await testStoreOverrides(dir);
  const postgresUrl = (onStore as { store?: { postgres: { url: string } } }).store?.postgres.url;
  const config = testConfig(dir, onStore);
  const initial = await openTestStore(config);
  const svc = buildServices({ config, log: silentLogger(), ...(initial ? { store: initial } : {}) });
  await svc.accounts.createUser({ username: 'alice', displayName: 'Alice' });
  await svc.accounts.createUser({ username: 'bob', displayName: 'Bob' });
  await svc.accounts.addDevice('bob', { kind: 'pager', address: 'P-1' });
  await svc.accounts.addDevice('bob', { kind: 'email', address: 'bob@example.com' });
  await svc.accounts.addDevice('bob', { kind: 'pager', address: 'P-2' });
  await svc.store.close();
  // What the killed process left, read through the notifier's storage port on a connection of the test's own.
  const look = await openStore(config, { migrate: false });
  t.teardown(() => look.close());
  const alert = async () => (await look.notify.listAlerts())[0];
  const peek = async () => {
    const a = await alert();
    return a
      ? (await look.notify.steps(a.id)).map((s) => ({
          position: s.position,
          state: s.state,
          attempts: s.attempts,
          code: s.errorCode,
        }))
      : [];
  };
  const alertState = async () => (await alert())?.state;
  /**
   * The notifier started again on the same store after the kill. In this process: what is under test is
   * what the killed process left in the store, and a second child would only cost another TypeScript load.
   */
  const restart = async (t: Test) => {
    const config = restartConfig(dir, smtpPort, snppPort, postgresUrl);
    const store = await openTestStore(config);
    const svc = buildServices({
      config,
      log: silentLogger(),
      clock: new SystemClock(),
      ...(store ? { store } : {}),
    });
    await svc.notifier.start();
    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        await svc.notifier.stop();
        await svc.store.close();
      })());
    t.teardown(stop);
    return stop;
  };
  const args = [dir, String(smtpPort), String(snppPort), 'post', ...(postgresUrl ? [postgresUrl] : [])];
  return { args, peek, alertState, restart };
}

t.test('SIGKILL while the ladder waits between steps: it resumes, nothing repeated, nothing lost', async (t) => {
  const smtp = await startSmtp();
  const snpp = await startSnpp();
  t.teardown(async () => {
    await smtp.close();
    await snpp.close();
  });
  const dir = t.testdir({});
  const s = await setup(t, dir, snpp.port, smtp.port);

  const first = startChild(s.args);
  t.teardown(() => kill(first.child));
  await first.ready;
  await until(async () => (await s.peek())[0]?.state === 'delivered', 15_000, 'the first page');
  await kill(first.child);
  t.equal(first.child.signalCode, 'SIGKILL');
  t.same(
    readSnppLog(snpp.logFile).map((p) => p.pager),
    ['P-1'],
  );
  t.equal(smtp.mails.length, 0, 'killed while waiting before the email');
  t.match(await s.peek(), [{ state: 'delivered' }, { state: 'scheduled' }, { state: 'scheduled' }]);

  const stop = await s.restart(t);
  await until(async () => (await s.alertState()) === 'done', 20_000, 'the ladder to finish');
  await stop();
  t.same(
    readSnppLog(snpp.logFile).map((p) => p.pager),
    ['P-1', 'P-2'],
    'each pager paged exactly once',
  );
  t.equal(smtp.mails.length, 1, 'one email');
  t.match(smtp.mails[0]?.text, /Still there\?/);
  t.match(await s.peek(), [
    { state: 'delivered', attempts: 1 },
    { state: 'delivered', attempts: 1 },
    { state: 'delivered', attempts: 1 },
  ]);
});

t.test(
  'SIGKILL while a step is being performed: that step is never performed again; the ladder moves on',
  async (t) => {
    const smtp = await startSmtp();
    const snpp = await startSnpp();
    t.teardown(async () => {
      await smtp.close();
      await snpp.close();
    });
    // The mail server takes the whole message and then never answers: the kill lands between "sent" and "recorded".
    let dataSeen = 0;
    const hang = smtp.onDataHook;
    hang.fn = () => {
      dataSeen++;
    };
    const dir = t.testdir({});
    const s = await setup(t, dir, snpp.port, smtp.port);
    const first = startChild(s.args);
    t.teardown(() => kill(first.child));
    await first.ready;
    await until(() => dataSeen === 1, 20_000, 'the email to reach the server');
    t.match(await s.peek(), [{ state: 'delivered' }, { state: 'in-progress', attempts: 1 }, { state: 'scheduled' }]);
    await kill(first.child);
    hang.fn = undefined;

    const stop = await s.restart(t);
    await until(async () => (await s.alertState()) === 'done', 20_000, 'the ladder to finish');
    await stop();
    t.equal(dataSeen, 1, 'the email was not sent again');
    t.equal(smtp.mails.length, 0);
    t.same(
      readSnppLog(snpp.logFile).map((p) => p.pager),
      ['P-1', 'P-2'],
    );
    t.match(await s.peek(), [
      { state: 'delivered', attempts: 1 },
      { state: 'failed', attempts: 1, code: 'NOTIFY_STEP_INTERRUPTED' },
      { state: 'delivered', attempts: 1 },
    ]);
  },
);
