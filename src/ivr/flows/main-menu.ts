/**
 * The main menu and its short branches: who of your contacts is online, your
 * own presence by keypad, and a new chat with a contact chosen by speed-dial
 * number (the contact's place in the buddy list, 1 first).
 */
import type { CallContext, Prompt } from '../context.js';
import { MAIN_MENU, PRESENCE_MENU } from '../menus.js';
import { gather, menu } from '../verbs.js';
import type { FlowServices, State } from './types.js';

/** The "who is online" sentence for the user's contacts now (null: none online, a catalogue prompt). */
async function onlineSentence(ctx: CallContext, svc: FlowServices): Promise<Prompt> {
  const contacts = await svc.presence.contacts(ctx.userOrThrow.id);
  const online = contacts.filter((c) => c.state !== 'offline');
  return online.length === 0 ? 'noContactsOnline' : { text: ctx.phrases.onlineList(online) };
}

/**
 * The main menu, after `lead` (said in the same playback). While it plays, the
 * answer to "who is online" is rendered, so that key costs no synthesis.
 */
export async function mainMenu(ctx: CallContext, svc: FlowServices, lead: readonly Prompt[] = []): Promise<State> {
  ctx.renderAhead(async () => [await onlineSentence(ctx, svc)]);
  const choice = await menu(ctx, MAIN_MENU, lead);
  switch (choice) {
    case 'messages':
      return { name: 'messages' };
    case 'online':
      return { name: 'online' };
    case 'set-presence':
      return { name: 'set-presence' };
    case 'start-chat':
      return { name: 'start-chat' };
    default:
      return { name: 'goodbye' };
  }
}

export async function whoIsOnline(ctx: CallContext, svc: FlowServices): Promise<State> {
  return { name: 'main', lead: [await onlineSentence(ctx, svc)] };
}

const KEYPAD_PRESENCE = ['online', 'away', 'busy', 'offline'] as const;

export async function setPresence(ctx: CallContext, svc: FlowServices): Promise<State> {
  ctx.renderAhead(() => KEYPAD_PRESENCE.map((s) => ({ text: ctx.phrases.presenceSet(s) })));
  const choice = await menu(ctx, PRESENCE_MENU);
  if (choice === 'back') return { name: 'main' };
  await svc.presence.setPresence(ctx.userOrThrow.id, choice);
  ctx.log.info({ presence: choice }, 'presence set by keypad');
  return { name: 'main', lead: [{ text: ctx.phrases.presenceSet(choice) }] };
}

export async function startChat(ctx: CallContext, svc: FlowServices): Promise<State> {
  const user = ctx.userOrThrow;
  const contacts = (await svc.presence.contacts(user.id)).slice(0, 99);
  if (contacts.length === 0) return { name: 'main', lead: ['noContacts'] };
  let lead: Prompt[] = [];
  for (let attempt = 0; attempt < ctx.config.maxTries; attempt++) {
    const r = await gather(ctx, {
      prompt: [...lead, 'chooseContact', { text: ctx.phrases.contactChoices(contacts.map((c) => c.spokenName)) }],
      maxDigits: contacts.length > 9 ? 2 : 1,
      terminator: '#',
    });
    if (r.digits === '*') return { name: 'main' };
    const contact = /^\d+$/.test(r.digits) ? contacts[Number(r.digits) - 1] : undefined;
    if (contact) {
      const { sessionId } = await svc.presence.startChat(user.id, contact.userId);
      ctx.log.info({ session: sessionId, contact: contact.userId }, 'chat started by speed dial');
      return { name: 'live-chat', sessionId };
    }
    lead = [r.digits ? 'noSuchContact' : 'noInput'];
  }
  return { name: 'goodbye', prompts: ['tooManyTries', 'goodbye'] };
}
