import type { Catalogue } from './types.js';

const STATES = {
  online: 'en línea',
  away: 'ausente',
  busy: 'ocupado',
  'on-the-phone': 'al teléfono',
  offline: 'desconectado',
};

export const es: Catalogue = {
  prompts: {
    welcome: 'Bienvenido a la mensajería por teléfono.',
    enterAccount: 'Marque su número de cuenta y después la tecla almohadilla.',
    enterPin: 'Marque su PIN y después la tecla almohadilla.',
    wrongPin: 'Ese PIN no es correcto.',
    wrongAccount: 'Ese número de cuenta y ese PIN no coinciden.',
    locked: 'Demasiados intentos fallidos. Su cuenta queda bloqueada durante un tiempo.',
    goodbye: 'Adiós.',
    noInput: 'No he oído ninguna tecla.',
    invalidKey: 'Esa opción no existe.',
    tooManyTries: 'Lo siento, no he entendido su elección.',
    mainMenu:
      'Menú principal. Pulse 1 para oír sus mensajes, 2 para saber quién está en línea, 3 para cambiar su estado, 4 para empezar una conversación con un contacto, o 9 para terminar la llamada.',
    noMoreMessages: 'No hay más mensajes nuevos.',
    messageOptions:
      'Pulse 1 para oírlo otra vez, 5 para responder, 6 para el mensaje siguiente, 7 para borrarlo, 8 para conversar en directo, o asterisco para el menú principal.',
    messageDeleted: 'Mensaje borrado.',
    recordReply: 'Grabe su respuesta después del tono. Pulse almohadilla al terminar.',
    reviewReply: 'Pulse 1 para enviarla, 2 para escucharla, 3 para grabarla de nuevo, o asterisco para cancelar.',
    replySent: 'Su respuesta se ha enviado.',
    replyCancelled: 'Su respuesta se ha cancelado.',
    replyEmpty: 'No he oído nada.',
    replyFailed: 'Lo siento, no se ha podido enviar su respuesta.',
    testAlertAnswered:
      'Era un aviso de prueba: su teléfono puede recibir llamadas de vuelta. No hay nada más que hacer.',
    noContactsOnline: 'Ninguno de sus contactos está en línea.',
    noContacts: 'Todavía no tiene contactos.',
    presenceMenu:
      'Pulse 1 para en línea, 2 para ausente, 3 para ocupado, o 4 para aparecer desconectado. Pulse asterisco para volver.',
    chooseContact: 'Marque el número de marcación rápida de un contacto y después almohadilla.',
    noSuchContact: 'No hay ningún contacto con ese número.',
    liveChatHelp:
      'Los mensajes se leerán a medida que lleguen. Pulse 5 para responder en cualquier momento, o asterisco para salir de la conversación.',
    liveChatLeft: 'Ha salido de la conversación.',
    resumeOffer: 'Pulse 1 para volver a ella, o 2 para el menú principal.',
    reverseOptions: 'Pulse 1 para aceptar, 2 para rechazar, o 3 para oírlo otra vez.',
    reverseAccepted: 'Ya está en la conversación.',
    reverseDeclined: 'Ha rechazado la invitación. Se lo diremos a quien le escribió.',
    voicemailTail: 'Llame a la mensajería por teléfono para escuchar y responder. Adiós.',
    error: 'Lo siento, algo ha fallado. Vuelva a llamar más tarde.',
  },
  welcomeBack: (name) => `Hola de nuevo, ${name}. Marque su PIN y después la tecla almohadilla.`,
  messageCount: (n, count, plural) =>
    n === 0
      ? 'No tiene mensajes nuevos.'
      : plural === 'one'
        ? `Tiene ${count} mensaje nuevo.`
        : `Tiene ${count} mensajes nuevos.`,
  triesLeft: (count, plural) => (plural === 'one' ? `Le queda ${count} intento.` : `Le quedan ${count} intentos.`),
  today: (time) => `hoy a las ${time}`,
  yesterday: (time) => `ayer a las ${time}`,
  onWeekday: (weekday, time) => `el ${weekday} a las ${time}`,
  onDate: (date, time) => `el ${date} a las ${time}`,
  envelope: (name, when) => `De ${name}, ${when}.`,
  ordinal: (kind, n) =>
    kind === 'only'
      ? 'Mensaje.'
      : kind === 'first'
        ? 'Primer mensaje.'
        : kind === 'last'
          ? 'Último mensaje.'
          : `Mensaje ${n}.`,
  state: (s) => STATES[s],
  isState: (name, state) => `${name} está ${state}.`,
  contactChoice: (name, key) => `Para ${name}, pulse ${key}.`,
  presenceSet: (state) => `Su estado ahora es ${state}.`,
  chattingWith: (names) => `Está en una conversación con ${names}.`,
  resumeQuestion: (names) => `Estaba en una conversación con ${names}.`,
  says: (name, text) => `${name} dice: ${text}`,
  sentVoice: (name) => `${name} ha enviado un mensaje de voz.`,
  cannotBeRead: (name) => `Un mensaje de ${name} que no se puede leer en voz alta; léalo en la web.`,
  wantsToChat: (name) => `Hola. ${name} quiere conversar con usted.`,
  nobody: 'nadie',
};
