#!/usr/bin/env node
import { ZodError } from 'zod';
import { isLiaisonError } from '../errors.js';
import { ConfigError } from '../runtime/env.js';
import { alertCommand } from './alert.js';
import { chatCommand } from './chat.js';
import { CHECKPOINT_USAGE, checkpointCommand } from './checkpoint.js';
import { demoCommand } from './demo.js';
import { directoryCommand } from './directory.js';
import { gatewayCommand } from './gateway.js';
import { HUB_USAGE, hubCommand } from './hub.js';
import { hubTailCommand } from './hub-tail.js';
import { inboxCommand } from './inbox.js';
import { KEYS_USAGE, keysCommand } from './keys.js';
import { UsageError } from './usage.js';

const USAGE = `liaison <command>

  gateway [--dev] run a gateway configured from the environment (README); --dev makes and loads
                  the development key set in keys/dev (npm start)
  chat OFFICE --key DEVICE.key [--gateway URL] [--json]
                  an interactive chat with a linked office
  alert OFFICE --key DEVICE.key --title T [--category C] [--precedence P] [--plate P]...
  inbox --key DEVICE.key [--ack ALERT_ID]...   list what waits; acknowledge alerts
  directory --key DEVICE.key                    offices, links, key fingerprints (safety numbers)
  checkpoint --key DEVICE.key --out FILE        keep the office's copy of the hub's signed checkpoint
  hub tail [--office O] [--border KZ-KG] [--kind K] [--precedence P]   an analyst's live view
                  [--gateway URL] also verifies that gateway's directory against the pinned root
  demo            seal and open a chat and an alert between two sample offices
  keys ...        key tooling: authority, certificates, statements, development key set

${HUB_USAGE}

${CHECKPOINT_USAGE}

${KEYS_USAGE}`;

const print = (line: string) => process.stdout.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'keys') await keysCommand(rest, print);
    else if (command === 'demo') await demoCommand(rest, print);
    else if (command === 'chat') await chatCommand(rest, print);
    else if (command === 'alert') await alertCommand(rest, print);
    else if (command === 'inbox') await inboxCommand(rest, print);
    else if (command === 'directory') await directoryCommand(rest, print);
    else if (command === 'checkpoint') await checkpointCommand(rest, print);
    else if (command === 'hub' && rest[0] === 'tail') await hubTailCommand(rest.slice(1), print);
    else if (command === 'gateway') await gatewayCommand(rest, print);
    else if (command === 'hub') await hubCommand(rest, print);
    else throw new UsageError(USAGE);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (isLiaisonError(error)) {
      process.stderr.write(`liaison: ${error.message} (${error.code})\n`);
    } else if (error instanceof ZodError) {
      process.stderr.write(
        `liaison: invalid input: ${error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n`,
      );
    } else {
      process.stderr.write(`liaison: ${(error as Error).message}\n`);
    }
    return 1;
  }
}

// A command may have set a failing exit code itself (hub verify, demo) without throwing.
const code = await main(process.argv.slice(2));
process.exitCode = code || process.exitCode;
