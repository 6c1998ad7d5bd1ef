/**
 * The container's server, run inside the container namespace:
 * `node tcp-target-program.js HOST PORT...` listens on each port, answers
 * every connection with one byte and closes it, and prints "ready" once
 * every port listens.
 */
import { createServer } from 'node:net';

const [host, ...ports] = process.argv.slice(2);
if (host === undefined || ports.length === 0) {
  process.stderr.write('usage: tcp-target-program HOST PORT...\n');
  process.exit(2);
}

let listening = 0;
for (const port of ports) {
  const server = createServer((socket) => {
    // Clients reset the connection once they have the byte.
    socket.on('error', () => undefined);
    socket.end('x');
  });
  server.on('error', (error) => {
    process.stderr.write(`listening on ${host}:${port}: ${error.message}\n`);
    process.exit(1);
  });
  server.listen({ host, port: Number(port), backlog: 4096 }, () => {
    if (++listening === ports.length) process.stdout.write('ready\n');
  });
}
