import type { AddressInfo, Server } from 'node:net';

/** Starts a server (HTTP or plain TCP) listening; resolves with the bound port (port 0 picks one). */
export async function listenOn(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
