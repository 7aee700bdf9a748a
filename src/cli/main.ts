#!/usr/bin/env node
import { ZodError } from 'zod';
import { ENVELOPE_VERSION } from '../../protocol/v1/envelope.js';
import { useNativeCrypto } from '../crypto/native-backend.js';
import { isLiaisonError } from '../errors.js';
import { ConfigError } from '../runtime/env.js';
import { StartupError } from '../runtime/fatal.js';
import { COMMAND_HELP, USAGE } from './help.js';
import { UsageError } from './usage.js';

// Native libsodium where sodium-native loads (a chat catching up opens thousands of envelopes);
// WebAssembly otherwise, with the same results.
useNativeCrypto();

const print = (line: string) => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`${line}\n`);

const VERSION = '0.1.0';

/** An error as the user reads it: one line, or one JSON object under --json. */
function report(argv: string[], line: string, code?: string) {
  if (argv.includes('--json'))
    process.stderr.write(
      `${JSON.stringify({ error: { code: code ?? 'USAGE', message: line } })}\n`,
    );
  else process.stderr.write(`${line}\n`);
}

/** parseArgs's own complaints, said with the flag and where to look. */
function usageOf(error: unknown, command: string | undefined): UsageError | undefined {
  const code = (error as { code?: string }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) return undefined;
  const topic = command === 'hub' ? 'hub' : command;
  return new UsageError(`liaison: ${(error as Error).message}; see liaison ${topic ?? ''} --help`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    print(USAGE);
    return 0;
  }
  if (command === '--version' || command === '-V') {
    print(`liaison ${VERSION} (protocol v${ENVELOPE_VERSION})`);
    return 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const sub = rest[0];
    const topic =
      command === 'hub' && (sub === 'tail' || sub === 'search' || sub === 'token')
        ? `hub ${sub}`
        : command;
    const help =
      topic === 'keys'
        ? (await import('./keys.js')).KEYS_USAGE
        : topic === 'admin'
          ? (await import('./admin.js')).ADMIN_USAGE
          : topic === 'checkpoint'
            ? (await import('./checkpoint.js')).CHECKPOINT_USAGE
            : COMMAND_HELP[topic];
    if (help) {
      print(help);
      return 0;
    }
  }
  try {
    // Each command's module is loaded when it runs: `keys` never loads the servers.
    if (command === 'keys') await (await import('./keys.js')).keysCommand(rest, print);
    else if (command === 'admin') await (await import('./admin.js')).adminCommand(rest, print);
    else if (command === 'checkpoint')
      await (await import('./checkpoint.js')).checkpointCommand(rest, print);
    else if (command === 'demo') await (await import('./demo.js')).demoCommand(rest, print);
    else if (command === 'chat') await (await import('./chat.js')).chatCommand(rest, print);
    else if (command === 'alert') await (await import('./alert.js')).alertCommand(rest, print);
    else if (command === 'inbox') await (await import('./inbox.js')).inboxCommand(rest, print);
    else if (command === 'forward')
      await (await import('./forward.js')).forwardCommand(rest, print);
    else if (command === 'permit') await (await import('./forward.js')).permitCommand(rest, print);
    else if (command === 'directory')
      await (await import('./directory.js')).directoryCommand(rest, print);
    else if (command === 'hub' && rest[0] === 'tail')
      await (await import('./hub-tail.js')).hubTailCommand(rest.slice(1), print);
    else if (command === 'hub' && rest[0] === 'search')
      await (await import('./hub-search.js')).hubSearchCommand(rest.slice(1), print);
    else if (command === 'hub' && rest[0] === 'token')
      await (await import('./hub-search.js')).hubTokenCommand(rest.slice(1), print);
    else if (command === 'gateway')
      // A service's stdout carries only its pino JSON log: notes for the person go to stderr.
      await (await import('./gateway.js')).gatewayCommand(rest, note);
    else if (command === 'hub') await (await import('./hub.js')).hubCommand(rest, print);
    else throw new UsageError(`liaison: unknown command ${command}\n\n${USAGE}`);
    return 0;
  } catch (caught) {
    const error = usageOf(caught, command) ?? caught;
    if (error instanceof StartupError) {
      // One line, then out: connections still open must not keep a failed server alive.
      report(argv, `liaison: ${error.message}`, 'STARTUP');
      process.exit(1);
    }
    if (error instanceof ConfigError || error instanceof UsageError) {
      report(argv, error.message);
      return 2;
    }
    if (isLiaisonError(error)) {
      report(argv, `liaison: ${error.message} (${error.code})`, error.code);
    } else if (error instanceof ZodError) {
      report(
        argv,
        `liaison: invalid input: ${error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        'VALIDATION_FAILED',
      );
    } else {
      report(argv, `liaison: ${(error as Error).message}`, 'FAILED');
    }
    return 1;
  }
}

// A command may have set a failing exit code itself (hub verify, demo) without throwing.
const code = await main(process.argv.slice(2));
process.exitCode = code || process.exitCode;
