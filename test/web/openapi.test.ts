/**
 * The generated API description: valid OpenAPI 3.1 by a maintained validator,
 * every route the server serves in it, every code of the error registry in it
 * with its status, and the shapes it promises are the shapes the API answers.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import t from 'tap';
import { ERRORS } from '../../src/core/errors.js';
import { ApiClient, makeUsers, startPlatform } from '../support/presence.js';

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
  'x-error-codes': Record<string, { status: number; description: string }>;
}

t.test('the document at /api/v1/openapi.json is valid OpenAPI 3.1 and shows every route', async (t) => {
  const { platform, url } = await startPlatform(t);
  const res = await fetch(`${url}/api/v1/openapi.json`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^application\/json/);
  const doc = (await res.json()) as Doc;
  t.equal(doc.openapi, '3.1.0');

  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
  t.same(result.errors ?? [], [], 'no schema errors');
  t.ok(result.valid, 'valid');
  t.equal(validator.version, '3.1', 'validated as 3.1');

  // Every route the server serves (its own list, HEAD twins aside) is a path and method of the document.
  const served = platform.http.routeList;
  t.ok(served.length >= 30, `${served.length} routes`);
  for (const route of served) {
    const path = route.url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{*}');
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    for (const m of methods) t.ok(doc.paths[path]?.[m.toLowerCase()], `${m} ${path} is documented`);
  }
  for (const p of ['/api/v1/login', '/api/v1/sessions/{id}/messages', '/api/v1/ws', '/metrics', '/ready', '/health'])
    t.ok(doc.paths[p], `documents ${p}`);

  // The error registry: every code with its status.
  for (const [code, spec] of Object.entries(ERRORS))
    t.same(doc['x-error-codes'][code], { status: spec.status, description: spec.doc }, `${code} ${spec.status}`);
  const errorCode = JSON.stringify(doc.components.schemas.Error);
  for (const code of Object.keys(ERRORS)) t.ok(errorCode.includes(`"${code}"`), `the Error schema lists ${code}`);
  const post = doc.paths['/api/v1/sessions/{id}/messages']?.post;
  t.ok(post?.requestBody, 'sending a message documents its body');
  t.ok(post?.responses['413'], 'and its refusal as too large');
  t.match(JSON.stringify(post?.responses['413']), /PRESENCE_MESSAGE_TOO_LARGE/);
});

t.test('the API answers the shapes the document promises', async (t) => {
  const { platform, url } = await startPlatform(t);
  await makeUsers(platform, ['alice', 'bob']);
  const doc = (await (await fetch(`${url}/api/v1/openapi.json`)).json()) as Doc;
  const alice = await ApiClient.login(url, 'alice');
  const created = await alice.call('POST', '/api/v1/sessions', { invitees: ['bob'] });
  t.equal(created.status, 403, 'Bob is not a contact yet');
  t.match(created.body, { error: { code: 'PRESENCE_NOT_CONTACT', message: String } });
  const me = (await alice.call('GET', '/api/v1/me')).body as Record<string, unknown>;
  const meSchema = JSON.stringify(doc.paths['/api/v1/me']?.get?.responses['200']);
  for (const key of Object.keys(me)) t.match(meSchema, new RegExp(`"${key}"`), `/me documents ${key}`);
  // An unsupported body type is refused in the registry's shape.
  const plain = await fetch(`${url}/api/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'text/plain' },
    body: 'bob',
  });
  t.equal(plain.status, 415);
  t.match(await plain.json(), { error: { code: 'WEB_UNSUPPORTED_MEDIA_TYPE' } });
});
