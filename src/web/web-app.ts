/**
 * The web capability as one Fastify plugin: the JSON API, the WebSocket and
 * the thin HTML/WML client.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../app.js';
import { apiPlugin } from './api.js';
import { ThinClient } from './thin-client.js';
import { WsGateway } from './ws-gateway.js';

export interface WebMount {
  ws: WsGateway;
  thin: ThinClient;
  close(): void;
}

/** Registers the web routes on `app`; the mount closes what they keep open (web links, sockets). */
export function mountWeb(app: FastifyInstance, services: Services): WebMount {
  const ws = new WsGateway(services);
  const thin = new ThinClient(services);
  app.register(apiPlugin(services));
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
