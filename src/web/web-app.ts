/**
 * The web capability as Fastify plugins: the JSON API, the WebSocket and the
 * thin HTML/WML client, with the limits they share.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../app.js';
import type { ReplyLinkUses } from '../notify/reply-link.js';
import { apiPlugin } from './api.js';
import { WebLimits } from './limits.js';
import { ThinClient } from './thin-client.js';
import { WsGateway } from './ws-gateway.js';

export interface WebMount {
  ws: WsGateway;
  thin: ThinClient;
  close(): void;
}

/** Registers the web routes on `app`; the mount closes what they keep open (web links, sockets). */
export function mountWeb(app: FastifyInstance, services: Services, replyLinkUses: ReplyLinkUses): WebMount {
  const limits = new WebLimits(app, services.config);
  const ws = new WsGateway(services, limits);
  const thin = new ThinClient(services, limits, replyLinkUses);
  app.register(apiPlugin(services, limits, (objectId) => ws.closeObject(objectId)));
  app.register(ws.plugin());
  app.register(thin.plugin());
  return {
    ws,
    thin,
    close() {
      thin.close();
      ws.close();
    },
  };
}
