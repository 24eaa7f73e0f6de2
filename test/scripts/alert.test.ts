/** phonectl alert, against a data directory a notifier also works on. */
import t from 'tap';
import { buildServices } from '../../src/app.js';
import { ManualClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { phonectl as cli } from '../support/cli.js';
import { testConfig } from '../support/env.js';
import { startSmtp } from '../support/notify.js';

t.test('an administrator sets a ladder, fires a test alert, traces, cancels and retries', async (t) => {
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const dir = t.testdir({});
  const run = cli(dir);
  t.equal((await run(['user', 'add', 'bob', '--name', 'Bob'])).code, 0);
  t.equal((await run(['user', 'add', 'alice', '--name', 'Alice'])).code, 0);
  const mail = JSON.parse((await run(['--json', 'device', 'add', 'bob', 'email', 'bob@example.com'])).stdout);
  const pager = JSON.parse(
    (await run(['--json', 'device', 'add', 'bob', 'pager', 'P-9', '--quiet', '22:00-07:00'])).stdout,
  );

  let r = await run(['alert', 'ladder', 'bob']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /ladder of bob \(default: the device registry\)/);
  t.match(r.stdout, new RegExp(`1\\s+${mail.id}\\s+email\\s+bob@example.com\\s+0`));
  t.match(r.stdout, new RegExp(`2\\s+${pager.id}\\s+page/snpp\\s+P-9\\s+180\\s+22:00-07:00`));
  r = await run(['alert', 'ladder', 'bob', `${pager.id}:30`, String(mail.id)]);
  t.match(r.stdout, /their own/);
  t.match(r.stdout, new RegExp(`1\\s+${pager.id}\\s+page/snpp\\s+P-9\\s+30`));
  r = await run(['alert', 'ladder', 'bob', 'x']);
  t.equal(r.code, 1);
  t.match(r.stderr, /DEVICE_ID or DEVICE_ID:WAIT_SECONDS \[NOTIFY_INVALID_INPUT\]/);
  r = await run(['alert', 'ladder', 'bob', '--off', '1']);
  t.match(r.stderr, /not more than one/);
  r = await run(['alert', 'ladder', 'bob', '--off']);
  t.match(r.stdout, /their own[\s\S]*\(none\)/);
  r = await run(['alert', 'ladder', 'bob', '--default']);
  t.match(r.stdout, /default/);

  r = await run(['--json', 'alert', 'test', 'bob']);
  t.equal(r.code, 0, r.stderr);
  const fired = JSON.parse(r.stdout);
  t.match(fired, { state: 'collecting', isTest: true });
  r = await run(['alert', 'test', 'bob']);
  t.match(r.stderr, /already has an open alert.*\[NOTIFY_ALERT_BUSY\]/);

  // The server's notifier picks the test alert up from the store. Its clock reads noon UTC (outside the
  // pager's quiet hours); the pager's SNPP server is down and steps get one try, so that step fails.
  const now = Date.now();
  const noon = new Date(now);
  noon.setUTCHours(12, 0, 0, 0);
  const clock = new ManualClock(noon.getTime() < now ? noon.getTime() + 24 * 3600_000 : noon.getTime());
  const svc = buildServices({
    config: testConfig(dir, {
      notify: { smtp: { port: smtp.port }, snpp: { port: 1, timeoutMs: 1000 }, pollSeconds: 1, maxAttempts: 1 },
    }),
    log: silentLogger(),
    clock,
  });
  t.teardown(async () => {
    await svc.notifier.stop();
    await svc.store.close();
  });
  await svc.notifier.start();
  await svc.notifier.idle();
  t.match(await svc.notifier.show(fired.id), { state: 'done', reason: 'ladder finished' });
  t.equal(smtp.mails.length, 1);

  r = await run(['alert', 'list']);
  t.match(r.stdout, /ID\s+USER\s+STATE\s+CREATED\s+STEPS\s+REASON/);
  t.match(r.stdout, new RegExp(`${fired.id}\\s+bob\\s+done\\s+\\S+\\s+1/2 delivered\\s+ladder finished`));
  r = await run(['alert', 'list', '--state', 'bogus']);
  t.equal(r.code, 1);
  r = await run(['alert', 'show', fired.id]);
  t.match(r.stdout, /test:\s+yes/);
  t.match(r.stdout, /1\s+email\s+bob@example.com\s+delivered\s+1/);
  r = await run(['alert', 'trace', `test-${fired.id}`]);
  t.match(r.stdout, /alert opened for bob \(test\)/);
  t.match(r.stdout, /step 1 email bob@example.com: delivered \(smtp: 250/);
  t.match(r.stdout, /alert done: ladder finished/);
  r = await run(['alert', 'trace', 'never-sent']);
  t.match(r.stdout, /message never-sent never reached the notifier/);

  r = await run(['alert', 'show', fired.id]);
  t.match(r.stdout, /2\s+page\/snpp\s+P-9\s+failed\s+1\s.*NOTIFY_SNPP_UNAVAILABLE/);
  r = await run(['alert', 'retry', fired.id]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /will run its failed steps again/);
  r = await run(['alert', 'retry', fired.id]);
  t.match(r.stderr, /is still running \[NOTIFY_NOT_RETRYABLE\]/);
  clock.advance(1000);
  await svc.notifier.idle();
  t.match((await svc.notifier.show(fired.id)).steps[1], { state: 'failed', attempts: 2 });
  t.equal(smtp.mails.length, 1, 'the delivered email is not sent again');
  r = await run(['alert', 'cancel', fired.id]);
  t.match(r.stderr, /has already ended .*\[NOTIFY_ALERT_ENDED\]/);
  r = await run(['alert', 'show', 'al-0000000000']);
  t.equal(r.code, 1);
  t.match(r.stderr, /\[NOTIFY_ALERT_NOT_FOUND\]/);

  // A real message for Bob, cancelled by the administrator while it collects.
  await svc.notifier.stop();
  const alice = await svc.accounts.getUser('alice');
  const { alertId } = await svc.notifier.messageUnreachable({
    recipientId: (await svc.accounts.getUser('bob')).id,
    message: {
      id: 'm-1',
      sessionId: 's-1',
      fromUserId: alice.id,
      fromName: 'Alice',
      fromSpokenName: 'Alice',
      text: 'hi',
      at: 0,
    },
  });
  r = await run(['alert', 'cancel', alertId]);
  t.match(r.stdout, new RegExp(`cancelled alert ${alertId}`));
  r = await run(['--json', 'alert', 'list', '--user', 'bob', '--state', 'cancelled']);
  t.match(JSON.parse(r.stdout), [{ id: alertId, reason: 'cancelled by an administrator' }]);
  r = await run(['--json', 'alert', 'trace', 'm-1']);
  const what = (JSON.parse(r.stdout) as { what: string }[]).map((e) => e.what);
  t.match(what.sort(), ['alert cancelled: cancelled by an administrator', /^alert opened for bob;/]);
});
