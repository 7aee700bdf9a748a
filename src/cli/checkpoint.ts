import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, clientFrom } from './client-options.js';
import { type Print, UsageError } from './usage.js';

export const CHECKPOINT_USAGE = `liaison checkpoint --key DEVICE.key --out FILE [--gateway URL]
  fetches the hub's newest signed checkpoint of CARICC's record through the gateway, verifies it
  against the hub key in the directory, keeps it beside the key file and writes it to FILE: the
  office's own copy, for \`liaison hub verify --checkpoint FILE\` to hold the record to`;

/** `liaison checkpoint`: an office keeps its own copy of where CARICC's record stood. */
export async function checkpointCommand(argv: string[], print: Print): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { ...CLIENT_OPTIONS, out: { type: 'string' } },
  });
  if (!values.out) throw new UsageError(CHECKPOINT_USAGE);
  // Only look: nothing in the inbox is acknowledged by this command.
  const client = await clientFrom(values, false);
  await client.start();
  try {
    await client.refreshCheckpoint();
  } finally {
    client.stop();
  }
  const { checkpoint } = client;
  if (!checkpoint) throw new UsageError('the hub has not signed a checkpoint yet');
  await writeFile(values.out, `${JSON.stringify(checkpoint, null, 2)}\n`);
  print(`checkpoint written to ${values.out}`);
}
