import { loadHubConfig } from '../hub/config.js';
import { runHub } from '../hub/main.js';
import { verifyChain } from '../hub/record.js';
import { HubStore } from '../hub/store.js';
import { UsageError } from './keys.js';

export const HUB_USAGE = `liaison hub <command>      (configured from the environment: README §The CARICC hub)

  run       record every envelope, escalate overdue alerts, serve analysts (until SIGTERM)
  verify    check the whole record's hash chain; prints the first broken entry, exit 1 if any`;

/** `liaison hub run | verify`. */
export async function hubCommand(argv: string[], print: (line: string) => void): Promise<void> {
  const [command] = argv;
  if (command !== 'run' && command !== 'verify') throw new UsageError(HUB_USAGE);
  const config = loadHubConfig(process.env);
  if (command === 'verify') {
    const store = new HubStore(config.redisUrl, config.redisPrefix);
    const all = await store.record.allEntries();
    const base = await store.record.base();
    const head = await store.record.head();
    await store.close();
    const report = verifyChain(all, base, head);
    if (report.ok) {
      const last = all.at(-1)?.slice(0, 64) ?? base.hash;
      print(
        `record intact: ${report.entries} entries after seq ${base.seq}, each chained to the one before`,
      );
      print(`head hash ${last} (note it outside Redis: a wholesale rewrite would change it)`);
      return;
    }
    print(
      `record BROKEN at entry ${report.broken?.position} (seq ${report.broken?.seq ?? '?'}): ${report.broken?.reason}`,
    );
    process.exitCode = 1;
    return;
  }

  const { stop: close } = await runHub(config);
  const stop = () => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await new Promise(() => {});
}
