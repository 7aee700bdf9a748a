// The baseline: what a team would hand-roll. A plain Socket.IO server with the Socket.IO Redis
// adapter that forwards whatever a socket sends to the sockets in the addressed room. No
// authentication, no validation, no storage, no hub fan-out. It answers the same events as the
// gateway, so the load agents drive both through one code path.
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const port = Number(process.env.PORT ?? 8081);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const pub = new Redis(url);
const sub = pub.duplicate();

const http = createServer((request, response) => {
  response.writeHead(request.url === '/healthz' ? 200 : 404).end();
});
const io = new Server(http, {
  transports: ['websocket'],
  adapter: createAdapter(pub, sub, { key: process.env.CHANNEL_PREFIX ?? 'baseline' }),
});

io.on('connection', (socket) => {
  // The device says which room (its office) it is in; nothing checks it.
  const room = socket.handshake.auth?.room;
  if (typeof room === 'string') socket.join(room);
  let offset = 0;
  socket.on('envelope:send', (envelope, ack) => {
    const to = envelope?.header?.to?.[0];
    if (typeof to === 'string') {
      io.to(to).emit('envelope', { offset: ++offset, acceptedAt: Date.now(), envelope });
    }
    if (typeof ack === 'function') ack({ ok: true, id: envelope?.header?.id });
  });
  socket.on('inbox:ack', (body, ack) => {
    if (typeof ack === 'function') ack({ ok: true, upTo: body?.upTo });
  });
  socket.on('inbox:fetch', (_body, ack) => {
    if (typeof ack === 'function') ack({ ok: true, items: [], more: false, gap: null });
  });
});

http.listen(port, '127.0.0.1');
const stop = () => {
  io.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
