/**
 * Every menu of the IVR, as data. validateMenus() runs when the IVR is built
 * (start-up), so a bad key or a missing prompt stops the platform before any
 * caller meets it.
 */
import { AppError } from '../core/errors.js';
import { type MenuDef, validateMenu } from './verbs.js';

export const MAIN_MENU = {
  id: 'main',
  prompt: ['mainMenu'],
  options: [
    { key: '1', action: 'messages' },
    { key: '2', action: 'online' },
    { key: '3', action: 'set-presence' },
    { key: '4', action: 'start-chat' },
    { key: '9', action: 'goodbye' },
  ],
} as const satisfies MenuDef;

export const MESSAGE_MENU = {
  id: 'message',
  prompt: ['messageOptions'],
  options: [
    { key: '1', action: 'replay' },
    { key: '5', action: 'reply' },
    { key: '6', action: 'next' },
    { key: '7', action: 'delete' },
    { key: '8', action: 'live' },
    { key: '*', action: 'back' },
  ],
} as const satisfies MenuDef;

export const REVIEW_MENU = {
  id: 'review',
  prompt: ['reviewReply'],
  options: [
    { key: '1', action: 'send' },
    { key: '2', action: 'listen' },
    { key: '3', action: 'rerecord' },
    { key: '*', action: 'cancel' },
  ],
  // The '#' that ended the recording may reach us after the recording did.
  ignore: ['#'],
} as const satisfies MenuDef;

export const PRESENCE_MENU = {
  id: 'presence',
  prompt: ['presenceMenu'],
  options: [
    { key: '1', action: 'online' },
    { key: '2', action: 'away' },
    { key: '3', action: 'busy' },
    { key: '4', action: 'offline' },
    { key: '*', action: 'back' },
  ],
} as const satisfies MenuDef;

export const RESUME_MENU = {
  id: 'resume',
  prompt: ['resumeOffer'],
  options: [
    { key: '1', action: 'resume' },
    { key: '2', action: 'main' },
  ],
} as const satisfies MenuDef;

export const REVERSE_MENU = {
  id: 'reverse-logon',
  prompt: ['reverseOptions'],
  options: [
    { key: '1', action: 'accept' },
    { key: '2', action: 'decline' },
    { key: '3', action: 'replay' },
  ],
} as const satisfies MenuDef;

export const ALL_MENUS: readonly MenuDef[] = [
  MAIN_MENU,
  MESSAGE_MENU,
  REVIEW_MENU,
  PRESENCE_MENU,
  RESUME_MENU,
  REVERSE_MENU,
];

/** Validates every menu; throws IVR_MENU_INVALID naming the first bad one. */
export function validateMenus(menus: readonly MenuDef[] = ALL_MENUS): void {
  const ids = new Set<string>();
  for (const m of menus) {
    validateMenu(m);
    if (ids.has(m.id)) throw new AppError('IVR_MENU_INVALID', `two menus are named "${m.id}"`, { menu: m.id });
    ids.add(m.id);
  }
}
