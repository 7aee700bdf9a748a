import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/gateway/config.js';
import { ConfigError } from '../../src/runtime/env.js';

describe('gateway configuration', () => {
  it('has defaults that run the quick start on the in-memory engine', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      redisUrl: undefined,
      audience: 'liaison-gateway',
    });
    expect(config.retentionMs).toBe(30 * 24 * 3600_000);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('turns fractional retention into whole milliseconds', () => {
    expect(Number.isInteger(loadConfig({ RETENTION_DAYS: '1.1' }).retentionMs)).toBe(true);
  });

  it('names every bad value in one clear error', () => {
    const bad = () =>
      loadConfig({
        PORT: 'eighty',
        REDIS_URL: 'http://x',
        RETENTION_DAYS: '-1',
        LOG_LEVEL: 'loud',
      });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (error) {
      const message = (error as Error).message;
      for (const name of ['PORT', 'REDIS_URL', 'RETENTION_DAYS', 'LOG_LEVEL'])
        expect(message).toContain(name);
    }
    expect(() => loadConfig({ PORT: '' })).toThrow(/PORT/);
    expect(() => loadConfig({ TLS_CERT_FILE: 'cert.pem' })).toThrow(/TLS_KEY_FILE/);
  });
});
