/**
 * The vouch registry alone in its own process, for bench/registry.ts: its memory is then the
 * registry's and nothing else's. Prints `listening <port>` once it accepts connections.
 *
 * Usage: node bench/registry-server.ts <storageDir> [port] [--no-sync]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRegistryApp, REGISTRY_SERVER_OPTIONS } from '../src/registry/index.ts';

const [storageDir, portArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (storageDir === undefined) {
  process.stderr.write('usage: registry-server.ts <storageDir> [port] [--no-sync]\n');
  process.exit(2);
}
const app = createRegistryApp({
  storageDir,
  sync: !process.argv.includes('--no-sync'),
  onError: (err) => process.stderr.write(`registry error: ${String((err as Error)?.stack ?? err)}\n`),
});
const server = createServer(REGISTRY_SERVER_OPTIONS, app.listener);
server.listen(Number(portArg ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
