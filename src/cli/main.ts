#!/usr/bin/env node
import { ZodError } from 'zod';
import { isLiaisonError } from '../errors.js';
import { demoCommand } from './demo.js';
import { KEYS_USAGE, keysCommand, UsageError } from './keys.js';

const USAGE = `liaison <command>

  demo            seal and open a chat and an alert between two sample offices (npm start)
  keys ...        key tooling: authority, certificates, statements, development key set

${KEYS_USAGE}`;

const print = (line: string) => process.stdout.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'keys') await keysCommand(rest, print);
    else if (command === 'demo') await demoCommand(rest, print);
    else throw new UsageError(USAGE);
    return 0;
  } catch (error) {
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

process.exitCode = await main(process.argv.slice(2));
