/**
 * The web capability as Fastify plugins: the JSON API, the WebSocket and the
 * thin HTML/WML client, with the limits they share.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../app.js';
import type { ReplyLinkUses } from '../notify/reply-link.js';
import { apiPlugin } from './api.js';
import { WebSessions } from './auth.js';
import { WebLimits } from './limits.js';
import { ThinClient } from './thin-client.js';
import { WsGateway } from './ws-gateway.js';

export interface WebMount {
  /** Who a request's token names (every route that wants a logged-in user asks it). */
  sessions: WebSessions;
  ws: WsGateway;
  thin: ThinClient;
  close(): void;
}

/** Registers the web routes on `app`; the mount closes what they keep open (web links, sockets). */
export function mountWeb(app: FastifyInstance, services: Services, replyLinkUses: ReplyLinkUses): WebMount {
  const limits = new WebLimits(app, services.config);
  const sessions = new WebSessions(
    services.presence.objects,
    services.accounts,
    services.clock,
    services.config.presence.sessionObjectIdleSeconds,
  );
  const ws = new WsGateway(services, limits, sessions);
  const thin = new ThinClient(services, limits, replyLinkUses, sessions);
  app.register(apiPlugin(services, limits, sessions, (objectId) => ws.closeObject(objectId)));
  app.register(ws.plugin());
  app.register(thin.plugin());
  return {
    sessions,
    ws,
    thin,
    close() {
      thin.close();
      ws.close();
    },
  };
}
