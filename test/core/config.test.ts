import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig, publicUrl } from '../../src/core/config.js';
import { isAppError } from '../../src/core/errors.js';

const failure = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (isAppError(e, 'CORE_CONFIG_INVALID')) return e.message;
    throw e;
  }
  throw new Error('expected a configuration error');
};

t.test('defaults are documented values and listeners are on loopback', async (t) => {
  const c = loadConfig({ env: {} });
  t.equal(c.http.host, '127.0.0.1');
  t.equal(c.sim.host, '127.0.0.1');
  t.equal(c.http.port, 8080);
  t.equal(c.accounts.maxFailedTries, 3);
  t.equal(c.accounts.lockoutSeconds, 300);
  t.equal(c.telephony.ari.url, undefined, 'no ARI URL: the simulator is used');
  t.equal(publicUrl(c, 1234), 'http://127.0.0.1:1234');
  t.equal(
    publicUrl(loadConfig({ env: {}, overrides: { http: { publicUrl: 'https://im.example.test/' } } })),
    'https://im.example.test',
  );
});

t.test('an unknown key stops start-up and is named', async (t) => {
  t.match(
    failure(() => loadConfig({ env: {}, overrides: { http: { prot: 80 } } })),
    /http\.prot is not a known key/,
  );
  t.match(
    failure(() => loadConfig({ env: {}, overrides: { colour: 'red' } })),
    /config: colour is not a known key/,
  );
});

t.test('a bad value names its key and the reason', async (t) => {
  t.match(
    failure(() => loadConfig({ env: {}, overrides: { http: { port: 70000 } } })),
    /http\.port is invalid/,
  );
  t.match(
    failure(() => loadConfig({ env: {}, overrides: { accounts: { kdfCost: 1000 } } })),
    /accounts\.kdfCost is invalid: must be a power of two/,
  );
  t.match(
    failure(() => loadConfig({ env: {}, overrides: { log: { level: 'loud' } } })),
    /log\.level is invalid/,
  );
  t.match(
    failure(() => loadConfig({ env: {}, overrides: { telephony: { ari: { url: 'not a url' } } } })),
    /telephony\.ari\.url is invalid/,
  );
});

t.test('the environment sets nested keys, with numbers and booleans parsed', async (t) => {
  const c = loadConfig({
    env: {
      PHONEIM_HTTP__PORT: '9090',
      PHONEIM_DEMO: 'true',
      PHONEIM_ACCOUNTS__LOCKOUT_SECONDS: '60',
      ASTERISK_ARI_URL: 'http://127.0.0.1:8088',
      ASTERISK_ARI_PASSWORD: '1234',
      HOME: '/root',
    },
  });
  t.equal(c.http.port, 9090);
  t.equal(c.demo, true);
  t.equal(c.accounts.lockoutSeconds, 60);
  t.equal(c.telephony.ari.url, 'http://127.0.0.1:8088');
  t.equal(c.telephony.ari.password, '1234', 'a numeric-looking secret stays text');
  t.match(
    failure(() => loadConfig({ env: { PHONEIM_HTTP__PROT: '1' } })),
    /http\.prot is not a known key/,
  );
  t.match(
    failure(() => loadConfig({ env: { PHONEIM_HTTP__PORT: 'eighty' } })),
    /http\.port is invalid/,
  );
});

t.test('a file is read, then the environment and overrides win', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ http: { port: 7000, host: '127.0.0.2' }, dataDir: '/tmp/x' }));
  const c = loadConfig({ env: { PHONEIM_CONFIG: file, PHONEIM_HTTP__PORT: '7001' }, overrides: { dataDir: '/tmp/y' } });
  t.equal(c.http.port, 7001);
  t.equal(c.http.host, '127.0.0.2');
  t.equal(c.dataDir, '/tmp/y');

  writeFileSync(file, '{ "http": ');
  t.match(
    failure(() => loadConfig({ env: {}, file })),
    /is not valid JSON/,
  );
  writeFileSync(file, '[1]');
  t.match(
    failure(() => loadConfig({ env: {}, file })),
    /top level must be an object/,
  );
  t.match(
    failure(() => loadConfig({ env: {}, file: join(dir, 'missing.json') })),
    /cannot be read/,
  );
});

t.test('the store: SQLite by default; PostgreSQL from store.kind and DATABASE_URL', async (t) => {
  const d = loadConfig({ env: {} });
  t.equal(d.store.kind, 'sqlite');
  t.equal(d.store.postgres.poolSize, 10);
  t.equal(d.store.postgres.statementTimeoutMs, 30_000);
  const c = loadConfig({
    env: {
      PHONEIM_STORE__KIND: 'postgres',
      DATABASE_URL: 'postgres://im:pw@db.example:5432/im',
      PHONEIM_STORE__POSTGRES__POOL_SIZE: '4',
      PHONEIM_STORE__POSTGRES__STATEMENT_TIMEOUT_MS: '0',
    },
  });
  t.equal(c.store.kind, 'postgres');
  t.equal(c.store.postgres.url, 'postgres://im:pw@db.example:5432/im');
  t.equal(c.store.postgres.poolSize, 4);
  t.equal(c.store.postgres.statementTimeoutMs, 0);
  t.match(
    failure(() => loadConfig({ env: { PHONEIM_STORE__KIND: 'postgres' } })),
    /store\.postgres\.url is invalid: is required when store\.kind is postgres/,
  );
  const bad = failure(() => loadConfig({ env: { DATABASE_URL: 'mysql://u:hunter2@h/db' } }));
  t.match(bad, /store\.postgres\.url is invalid/);
  t.notMatch(bad, /hunter2/, 'the rejected URL (and its password) is not echoed');
  t.match(
    failure(() => loadConfig({ env: { PHONEIM_STORE__KIND: 'mysql' } })),
    /store\.kind is invalid/,
  );
});
