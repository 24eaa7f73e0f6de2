/**
 * Every caller in their own language: transcripts through the simulator. A
 * Spanish-speaking caller hears the Spanish catalogue, with counts and times
 * in Spanish forms, the envelope in Spanish, and a message body written in
 * English read in English (the voice follows the body's language); a body
 * too short to tell is read in the caller's language. A caller from an
 * unknown phone hears the community's default language.
 */
import t from 'tap';
import type { VirtualCaller } from '../../src/sim/index.js';
import { eventually } from '../support/env.js';
import { ApiClient } from '../support/presence.js';
import { ivrOnSimulator, type TextSource } from './support/sim-harness.js';

t.setTimeout(360_000);

/** Waits for a playback whose text matches, after `from`; returns its text, audio id and index. */
async function heard(caller: VirtualCaller, audio: TextSource, pattern: RegExp, from = 0) {
  return eventually(
    () => {
      const list = caller.playbacks;
      for (let i = from; i < list.length; i++) {
        const media = (list[i] as { media: string }).media;
        const text = media.startsWith('sound:http') ? audio.textFor(media.slice('sound:'.length)) : media;
        if (text && pattern.test(text)) {
          const id = /\/audio\/([0-9a-f]{32})\//.exec(media)?.[1];
          return { text, id, next: i + 1 };
        }
      }
      throw new Error(`not heard yet: ${pattern}`);
    },
    { timeoutMs: 30_000 },
  );
}

t.test('a Spanish-speaking caller hears Spanish prompts; an English message is read in English', async (t) => {
  // The community's default is French: Bob chose Spanish; a caller from an unknown phone hears French.
  const { url, sim, audio, platform } = await ivrOnSimulator(t, { language: { default: 'fr' } });
  await platform.services.accounts.setLanguage('bob', 'es');
  const alice = await ApiClient.login(url, 'alice');
  const created = await alice.call('POST', '/api/v1/sessions', { invitees: ['bob'] });
  const sessionId = (created.body as { id: string }).id;
  const english = 'I will be late for dinner tonight, please start without me.';
  await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: english });
  await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: 'Okay!' });

  const caller = sim.placeCall({ from: '+15550101', to: '100' });
  let at = (await heard(caller, audio, /^Hola de nuevo, Bob\. Marque su PIN/)).next;
  await caller.pressKeys('2468#');
  at = (await heard(caller, audio, /^Tiene 2 mensajes nuevos\.$/, at)).next;
  at = (await heard(caller, audio, /^Primer mensaje\.$/, at)).next;
  const envelope = await heard(caller, audio, /^De Alice, hoy a las \d\d:\d\d\.$/, at);
  t.equal(envelope.id, audio.speechId(envelope.text, { language: 'es' }), 'the envelope in a Spanish voice');
  const body = await heard(caller, audio, /^I will be late for dinner/, envelope.next);
  t.equal(body.text, english);
  t.equal(body.id, audio.speechId(english, { language: 'en' }), 'the English body in an English voice');
  t.not(body.id, audio.speechId(english, { language: 'es' }), 'not in the Spanish voice');
  at = (await heard(caller, audio, /^Pulse 1 para oírlo otra vez, 5 para responder/, body.next)).next;
  await caller.pressKeys('6');
  at = (await heard(caller, audio, /^Último mensaje\.$/, at)).next;
  const short = await heard(caller, audio, /^Okay!$/, at);
  t.equal(short.id, audio.speechId('Okay!', { language: 'es' }), "too short to tell: the caller's language");
  await caller.pressKeys('6');
  at = (await heard(caller, audio, /^No hay más mensajes nuevos\.$/, short.next)).next;
  at = (await heard(caller, audio, /^Menú principal\. Pulse 1 para oír sus mensajes/, at)).next;

  // Live chat: "Alice dice:" in Spanish, then her English words in English, as they arrive.
  await caller.pressKeys('4');
  at = (await heard(caller, audio, /^Para Alice, pulse 1\.$/, at)).next;
  await caller.pressKeys('1');
  at = (await heard(caller, audio, /^Está en una conversación con Alice\.$/, at)).next;
  at = (await heard(caller, audio, /^Los mensajes se leerán a medida que lleguen/, at)).next;
  const live = 'The train is running twenty minutes late this evening.';
  await alice.call('POST', `/api/v1/sessions/${sessionId}/messages`, { text: live });
  at = (await heard(caller, audio, /^Alice dice:$/, at)).next;
  const liveBody = await heard(caller, audio, /^The train is running/, at);
  t.equal(liveBody.id, audio.speechId(live, { language: 'en' }), 'read in English in the live chat too');
  await caller.pressKeys('*');
  at = (await heard(caller, audio, /^Ha salido de la conversación\.$/, liveBody.next)).next;
  at = (await heard(caller, audio, /^Menú principal\./, at)).next;
  await caller.pressKeys('9');
  await heard(caller, audio, /^Adiós\.$/, at);
  t.equal((await caller.ended).by, 'app', 'the IVR hung up after saying goodbye');

  const stranger = sim.placeCall({ from: '+15559999', to: '100' });
  const welcome = await heard(stranger, audio, /^Bienvenue sur la messagerie par téléphone\.$/);
  await heard(stranger, audio, /^Composez votre numéro de compte/, welcome.next);
  await stranger.hangup();
});
