/**
 * The IVR's fixed prompts: id -> text. `phonectl prompts render` renders them
 * all into the sounds folder; the audio server renders a missing one on
 * demand. Ids are stable (flows refer to them); the text may change, which
 * changes the content key and so the audio.
 */
export const PROMPTS = {
  welcome: 'Welcome to phone messaging.',
  'enter-account': 'Please enter your account number, then press the pound key.',
  'enter-pin': 'Please enter your PIN, then press the pound key.',
  'pin-wrong': 'That PIN is not correct. Please try again.',
  'account-locked': 'Too many wrong tries. Your account is locked for a while. Goodbye.',
  'main-menu':
    'To hear your new messages, press 1. To chat live, press 2. To set your presence, press 3. To hear this menu again, press star.',
  'no-new-messages': 'You have no new messages.',
  'one-new-message': 'You have 1 new message.',
  'new-messages-intro': 'Here are your new messages.',
  'message-options':
    'To hear it again, press 1. To reply, press 2. For the next message, press 3. To chat live, press 4. For the main menu, press star.',
  'no-more-messages': 'There are no more messages.',
  'record-reply': 'Record your reply after the tone. Press the pound key when you are done.',
  'reply-too-short': 'Your reply was too short. Please try again.',
  'reply-sent': 'Your reply has been sent.',
  'live-chat-start': 'You are now in live chat. New messages will be read as they arrive. To reply, press 2.',
  'presence-menu': 'To show yourself as available, press 1. As busy, press 2. As away, press 3.',
  'presence-set': 'Your presence has been updated.',
  'reverse-logon-accept': 'To take part by phone, press 1. To decline, press 2.',
  'invalid-key': 'Sorry, that key is not valid here.',
  'no-input': 'We did not hear a key.',
  'try-later': 'Sorry, something went wrong. Please try again later.',
  goodbye: 'Goodbye.',
} as const satisfies Record<string, string>;

export type PromptId = keyof typeof PROMPTS;

export const PROMPT_IDS = Object.keys(PROMPTS) as PromptId[];

export const isPromptId = (id: string): id is PromptId => Object.hasOwn(PROMPTS, id);
