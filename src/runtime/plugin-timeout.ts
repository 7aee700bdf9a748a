/** How long Fastify waits for one plugin to start (its default, 10 s, fails a busy machine). */
export const PLUGIN_TIMEOUT_MS = 120_000;
