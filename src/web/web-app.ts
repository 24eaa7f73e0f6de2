/**
 * Mounts the web capability on the HTTP server: the JSON API, the WebSocket
 * and the thin HTML/WML client.
 */
import type { Services } from '../app.js';
import type { ReplyLinkUses } from '../notify/reply-link.js';
import { mountApi } from './api.js';
import type { HttpServer } from './http-server.js';
import { WebLimits } from './limits.js';
import { ThinClient } from './thin-client.js';
import { WsGateway } from './ws-gateway.js';

export interface WebMount {
  ws: WsGateway;
  thin: ThinClient;
  close(): void;
}

export function mountWeb(http: HttpServer, services: Services, replyLinkUses: ReplyLinkUses): WebMount {
  const limits = new WebLimits(services.config, services.clock);
  const ws = new WsGateway(services, limits);
  mountApi(http.router, services, limits, (objectId) => ws.closeObject(objectId));
  http.onUpgrade((req, socket, head) => ws.handleUpgrade(req, socket, head));
  const thin = new ThinClient(services, limits, replyLinkUses);
  thin.mount(http.router);
  return {
    ws,
    thin,
    close() {
      thin.close();
      ws.close();
    },
  };
}
