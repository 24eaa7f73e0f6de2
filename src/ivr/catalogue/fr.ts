import type { Catalogue } from './types.js';

const STATES = {
  online: 'en ligne',
  away: 'absent',
  busy: 'occupé',
  'on-the-phone': 'au téléphone',
  offline: 'hors ligne',
};

export const fr: Catalogue = {
  prompts: {
    welcome: 'Bienvenue sur la messagerie par téléphone.',
    enterAccount: 'Composez votre numéro de compte, puis la touche dièse.',
    enterPin: 'Composez votre code PIN, puis la touche dièse.',
    wrongPin: "Ce code PIN n'est pas le bon.",
    wrongAccount: 'Ce numéro de compte et ce code PIN ne correspondent pas.',
    locked: 'Trop d’essais erronés. Votre compte est bloqué pour un moment.',
    goodbye: 'Au revoir.',
    noInput: "Je n'ai entendu aucune touche.",
    invalidKey: "Ce choix n'existe pas.",
    tooManyTries: "Désolé, je n'ai pas compris votre choix.",
    mainMenu:
      'Menu principal. Tapez 1 pour écouter vos messages, 2 pour savoir qui est en ligne, 3 pour changer votre statut, 4 pour commencer une conversation avec un contact, ou 9 pour raccrocher.',
    noMoreMessages: "Il n'y a plus de nouveaux messages.",
    messageOptions:
      'Tapez 1 pour le réécouter, 5 pour répondre, 6 pour le message suivant, 7 pour le supprimer, 8 pour converser en direct, ou étoile pour le menu principal.',
    messageDeleted: 'Message supprimé.',
    recordReply: 'Enregistrez votre réponse après le bip. Tapez dièse quand vous avez terminé.',
    reviewReply: "Tapez 1 pour l'envoyer, 2 pour l'écouter, 3 pour l'enregistrer à nouveau, ou étoile pour annuler.",
    replySent: 'Votre réponse a été envoyée.',
    replyCancelled: 'Votre réponse a été annulée.',
    replyEmpty: "Je n'ai rien entendu.",
    replyFailed: "Désolé, votre réponse n'a pas pu être envoyée.",
    testAlertAnswered: "C'était une alerte de test : votre téléphone peut être rappelé. Rien d'autre à faire.",
    noContactsOnline: "Aucun de vos contacts n'est en ligne.",
    noContacts: "Vous n'avez pas encore de contacts.",
    presenceMenu:
      'Tapez 1 pour en ligne, 2 pour absent, 3 pour occupé, ou 4 pour apparaître hors ligne. Tapez étoile pour revenir.',
    chooseContact: "Composez le numéro abrégé d'un contact, puis dièse.",
    noSuchContact: "Il n'y a aucun contact à ce numéro.",
    liveChatHelp:
      'Les messages seront lus dès leur arrivée. Tapez 5 pour répondre à tout moment, ou étoile pour quitter la conversation.',
    liveChatLeft: 'Vous avez quitté la conversation.',
    resumeOffer: 'Tapez 1 pour y revenir, ou 2 pour le menu principal.',
    reverseOptions: 'Tapez 1 pour accepter, 2 pour refuser, ou 3 pour réécouter.',
    reverseAccepted: 'Vous êtes maintenant dans la conversation.',
    reverseDeclined: "Vous avez refusé. L'expéditeur en sera informé.",
    voicemailTail: 'Appelez la messagerie par téléphone pour écouter et répondre. Au revoir.',
    error: "Désolé, une erreur s'est produite. Veuillez rappeler plus tard.",
  },
  welcomeBack: (name) => `Bon retour, ${name}. Composez votre code PIN, puis la touche dièse.`,
  messageCount: (n, count, plural) =>
    n === 0
      ? "Vous n'avez pas de nouveaux messages."
      : plural === 'one'
        ? `Vous avez ${count} nouveau message.`
        : `Vous avez ${count} nouveaux messages.`,
  triesLeft: (count, plural) => (plural === 'one' ? `Il vous reste ${count} essai.` : `Il vous reste ${count} essais.`),
  today: (time) => `aujourd'hui à ${time}`,
  yesterday: (time) => `hier à ${time}`,
  onWeekday: (weekday, time) => `${weekday} à ${time}`,
  onDate: (date, time) => `le ${date} à ${time}`,
  envelope: (name, when) => `De ${name}, ${when}.`,
  ordinal: (kind, n) =>
    kind === 'only'
      ? 'Message.'
      : kind === 'first'
        ? 'Premier message.'
        : kind === 'last'
          ? 'Dernier message.'
          : `Message ${n}.`,
  state: (s) => STATES[s],
  isState: (name, state) => `${name} est ${state}.`,
  contactChoice: (name, key) => `Pour ${name}, tapez ${key}.`,
  presenceSet: (state) => `Votre statut est maintenant ${state}.`,
  chattingWith: (names) => `Vous êtes en conversation avec ${names}.`,
  resumeQuestion: (names) => `Vous étiez en conversation avec ${names}.`,
  says: (name, text) => `${name} dit : ${text}`,
  sentVoice: (name) => `${name} a envoyé un message vocal.`,
  cannotBeRead: (name) => `Un message de ${name} qui ne peut pas être lu à voix haute ; lisez-le sur le web.`,
  wantsToChat: (name) => `Bonjour. ${name} souhaite converser avec vous.`,
  nobody: 'personne',
};
