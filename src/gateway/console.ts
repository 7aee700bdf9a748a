import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

export interface ConsoleOptions {
  /** The built Console (`npm run build` writes dist/console). */
  readonly root?: string;
  /** The CARICC hub the analysts' Console talks to: allowed in the page's connect-src. */
  readonly hubUrl?: string | undefined;
}

/** dist/console, from the compiled file (dist/src/gateway) or the source (src/gateway). */
const builtConsole = () =>
  [
    join(import.meta.dirname, '..', '..', 'console'),
    join(import.meta.dirname, '..', '..', 'dist', 'console'),
  ].find((dir) => existsSync(join(dir, 'index.html')));

/** The hub's origin for HTTP and for its WebSocket, as CSP sources. */
function hubSources(hubUrl: string | undefined): string[] {
  if (!hubUrl) return [];
  const url = new URL(hubUrl);
  const ws = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return [url.origin, `${ws}//${url.host}`];
}

/**
 * Serves the Console on the gateway's origin (the same origin as Socket.IO), with strict security
 * headers: a Content-Security-Policy without inline scripts (WebAssembly allowed, for libsodium),
 * connections only to this origin and the hub, no framing. Encapsulated: the API routes keep their
 * own headers. Without a build, `/` says how to make one.
 */
export async function serveConsole(app: FastifyInstance, options: ConsoleOptions = {}) {
  const root = options.root ?? builtConsole();
  // Loaded here, not at the top: the CLI's other commands need not pay for them at start.
  const [{ default: helmet }, { default: fastifyStatic }] = await Promise.all([
    import('@fastify/helmet'),
    import('@fastify/static'),
  ]);
  await app.register(async (scope) => {
    await scope.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'", "'wasm-unsafe-eval'"],
          'style-src': ["'self'"],
          // blob: for the previews of attachments, decrypted in the page (PROTOCOL.md §8.2).
          'img-src': ["'self'", 'data:', 'blob:'],
          'connect-src': ["'self'", ...hubSources(options.hubUrl)],
          'worker-src': ["'self'"],
          'manifest-src': ["'self'"],
          'object-src': ["'none'"],
          'base-uri': ["'none'"],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
        },
      },
      // Loopback and LAN deployments run on plain HTTP; TLS deployments add HSTS at the proxy.
      strictTransportSecurity: false,
      referrerPolicy: { policy: 'no-referrer' },
    });
    if (!root || !existsSync(join(root, 'index.html'))) {
      scope.get('/', async (_request, reply) =>
        reply.type('text/plain').send('The Console is not built: run `npm run build`.\n'),
      );
      return;
    }
    await scope.register(fastifyStatic, {
      root,
      wildcard: false,
      // Names do not carry a hash: the browser revalidates (ETag), the service worker caches.
      cacheControl: false,
      setHeaders: (res) => res.setHeader('cache-control', 'no-cache'),
    });
  });
}
