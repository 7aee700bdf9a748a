import { readFile } from 'node:fs/promises';
import { pinAuthority } from '../crypto/certificate.js';
import { BULK_WINDOW } from '../directory/bulk-apply.js';
import type { Engine } from '../engine/engine.js';
import { MemoryEngine } from '../engine/memory.js';
import { RedisEngine } from '../engine/redis.js';
import { readDirectoryHeader, readDirectoryStatements } from '../keystore/directory-file-stream.js';
import { explainStartup, requireRedis } from '../runtime/fatal.js';
import { createLogger } from '../runtime/logger.js';
import type { GatewayConfig } from './config.js';
import { type Gateway, startGateway } from './gateway.js';

/**
 * Runs a gateway from its configuration until SIGTERM or SIGINT, then shuts down gracefully.
 * Without REDIS_URL it runs on the in-memory engine, one process, and says so.
 */
export async function runGateway(config: GatewayConfig): Promise<Gateway> {
  const logger = createLogger(config.logLevel, config.instanceId);
  const authority = await pinAuthority(JSON.parse(await readFile(config.authorityFile, 'utf8')));
  // An unreachable Redis stops the start in seconds, with one line (never a silent retry loop).
  if (config.redisUrl) await requireRedis(config.redisUrl);
  const engine: Engine = config.redisUrl
    ? new RedisEngine({
        url: config.redisUrl,
        prefix: config.redisPrefix,
        retentionMs: config.retentionMs,
      })
    : new MemoryEngine({ retentionMs: config.retentionMs });
  if (engine.kind === 'memory') {
    logger.warn(
      'no REDIS_URL: single-process gateway on the in-memory engine; nothing survives a restart',
    );
  }
  let gateway: Gateway;
  try {
    await engine.ping();
    const file = config.directoryFile ? await directorySource(config.directoryFile) : undefined;
    gateway = await startGateway(
      {
        host: config.host,
        port: config.port,
        audience: config.audience,
        rateLimitPerMinute: config.rateLimitPerMinute,
        attachmentQuotaBytes: config.attachmentQuotaBytes,
        shutdownGraceMs: config.shutdownGraceMs,
        tls: config.tls,
        ...(file ? { bootstrap: file.take } : {}),
        ...(file?.head ? { bootstrapHead: file.head } : {}),
        console: { hubUrl: config.consoleHubUrl },
      },
      { engine, authority, logger },
    );
  } catch (error) {
    await engine.close().catch(() => undefined);
    throw explainStartup(error, {
      what: 'gateway',
      redisUrl: config.redisUrl,
      prefix: config.redisPrefix,
      port: config.port,
    });
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gateway
      .close()
      .then(() => engine.close())
      .then(
        () => process.exit(0),
        (error) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return gateway;
}

/**
 * A directory file: its head, and its statements read in windows when the shared log needs them
 * (the file is never in memory whole: ~180 MB for 100,000 devices).
 */
async function directorySource(path: string) {
  const { head } = await readDirectoryHeader(path);
  return { head, take: () => readDirectoryStatements(path, BULK_WINDOW) };
}
