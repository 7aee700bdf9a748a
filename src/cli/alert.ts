import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Precedence } from '../../protocol/v1/envelope.js';
import { AlertCategory, AlertSubject, CaseRef, Evaluation } from '../../protocol/v1/payload.js';
import { attachFiles } from './attachments.js';
import { announceDeviceChanges, CLIENT_OPTIONS, clientFrom } from './client-options.js';
import { HANDLING_OPTIONS, handlingFrom } from './handling.js';
import { describeRefusal } from './show.js';
import { type Print, UsageError } from './usage.js';

/** `liaison alert <office> --category C --precedence P --title T [...]`: sends a structured alert. */
export async function alertCommand(argv: string[], print: Print): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...CLIENT_OPTIONS,
      category: { type: 'string', default: 'other' },
      precedence: { type: 'string', default: 'PRIORITY' },
      title: { type: 'string' },
      description: { type: 'string', default: '' },
      bcp: { type: 'string' },
      plate: { type: 'string', multiple: true },
      person: { type: 'string', multiple: true },
      hours: { type: 'string', default: '24' },
      ...HANDLING_OPTIONS,
      reliability: { type: 'string' },
      accuracy: { type: 'string' },
      case: { type: 'string' },
      'case-id': { type: 'string' },
      attach: { type: 'string', multiple: true },
      thumbnail: { type: 'string', multiple: true },
    },
  });
  const office = positionals[0];
  if (!office || !values.title)
    throw new UsageError(
      'liaison alert <office> --title TEXT [--category C] [--precedence P] [--bcp NAME] [--plate P]... --key DEVICE.key',
    );
  const category = AlertCategory.safeParse(values.category);
  if (!category.success)
    throw new UsageError(`--category: expected one of ${AlertCategory.options.join(', ')}`);
  const precedence = Precedence.safeParse(values.precedence);
  if (!precedence.success)
    throw new UsageError(`--precedence: expected one of ${Precedence.options.join(', ')}`);
  const hours = Number(values.hours);
  if (!(hours > 0 && hours <= 24 * 365))
    throw new UsageError('--hours: expected a number of hours, more than 0 (default 24)');
  const conditions = alertConditions(values);
  const subjects = [
    ...(values.plate ?? []).map((plate) => AlertSubject.parse({ kind: 'vehicle', plate })),
    ...(values.person ?? []).map((name) => AlertSubject.parse({ kind: 'person', name })),
  ];
  // A one-shot command only looks at the inbox: what waits there stays for the chat or inbox.
  // The office's default (the environment) goes on through the SDK's defaultHandling.
  const client = await clientFrom({ ...values, defaultHandling: handlingFrom(values) }, false);
  if (!values.json) announceDeviceChanges(client, (human) => print(human));
  client.on('problem', (p) =>
    print(values.json ? JSON.stringify({ event: 'problem', ...p }) : describeRefusal(p)),
  );
  await client.start();
  try {
    if (!client.directory.office(office))
      throw new UsageError(
        `unknown office ${office}: not in the directory (see liaison directory)`,
      );
    const attachments = await attachFiles(client, values.attach ?? [], values.thumbnail ?? []);
    const now = Date.now();
    const id = await client.sendAlert(office, {
      category: category.data,
      precedence: precedence.data,
      title: values.title,
      description: values.description,
      location: {
        bcp: values.bcp ?? client.directory.office(client.officeId)?.bcp ?? client.officeId,
      },
      subjects,
      validFrom: now,
      validUntil: now + hours * 3_600_000,
      ...conditions,
      ...(attachments.length > 0 ? { attachments } : {}),
    });
    const caseId = conditions.case?.id;
    print(
      values.json
        ? JSON.stringify({ id, status: 'accepted', ...(caseId ? { caseId } : {}) })
        : `alert ${id} accepted by the gateway${caseId ? ` (case ${caseId}: add to it with --case-id)` : ''}`,
    );
  } finally {
    client.stop();
  }
}

/**
 * The conditions an alert travels with, inside the ciphertext (PROTOCOL.md §8.1): the provider's
 * evaluation and the case it belongs to (a new one unless `--case-id` names one). Its handling
 * code is the SDK's `defaultHandling` (handling.ts: `--handling`, else the office's default).
 */
function alertConditions(values: {
  reliability?: string | undefined;
  accuracy?: string | undefined;
  case?: string | undefined;
  'case-id'?: string | undefined;
}): { evaluation?: Evaluation; case?: CaseRef } {
  let evaluation: Evaluation | undefined;
  if (values.reliability !== undefined || values.accuracy !== undefined) {
    const parsed = Evaluation.safeParse({
      sourceReliability: values.reliability,
      informationAccuracy: Number(values.accuracy),
    });
    if (!parsed.success)
      throw new UsageError(
        '--reliability A|B|C|X and --accuracy 1|2|3|4 go together (the source and the information)',
      );
    evaluation = parsed.data;
  }
  let caseRef: CaseRef | undefined;
  if (values.case !== undefined || values['case-id'] !== undefined) {
    const parsed = CaseRef.safeParse({
      id: values['case-id'] ?? randomUUID(),
      title: values.case,
      status: 'open',
    });
    if (!parsed.success)
      throw new UsageError('--case TITLE (1–200 characters) [--case-id UUID of an existing case]');
    caseRef = parsed.data;
  }
  return {
    ...(evaluation ? { evaluation } : {}),
    ...(caseRef ? { case: caseRef } : {}),
  };
}
