// `npm run bench`: the benchmark suite (bench/suite.ts) on a Redis of its own, so Redis's CPU per
// envelope is this run's alone. BENCH_SHARED_REDIS=1 uses REDIS_URL (default 127.0.0.1:6379).
// First: from here on, no process the benchmark starts outlives it (bench/children.ts).
import './children.js';
import { startOwnRedis } from './redis.js';

const redis = process.env.BENCH_SHARED_REDIS ? undefined : await startOwnRedis();
if (redis) process.env.REDIS_URL = redis.url;
console.log(
  `Redis: ${redis ? `own redis-server at ${redis.url}` : (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')}`,
);
// Imported after REDIS_URL is set: every module and process of the suite reads it.
await import('./suite.js');
