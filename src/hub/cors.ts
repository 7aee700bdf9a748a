import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * Lets the web Console (served by the gateway, another origin) call the hub's record API with an
 * analyst's bearer token. Only the configured origins; no cookies, so no credentials mode.
 */
export async function allowConsole(app: FastifyInstance, origins: readonly string[]) {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: [...origins],
    methods: ['GET'],
    allowedHeaders: ['authorization'],
    maxAge: 600,
  });
}
