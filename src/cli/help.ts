import { Precedence } from '../../protocol/v1/envelope.js';
import { AlertCategory } from '../../protocol/v1/payload.js';

// Every command's help but keys', admin's and checkpoint's (their own modules), in one place: `liaison --help` and `liaison <command> --help` print it to
// stdout. Options listed here are every option the command takes.

const CLIENT = `  --key FILE         this device's key file (required), e.g. keys/dev/devices/KZ-KORDAI/desk-1.key
  --gateway URL      the gateway (default http://127.0.0.1:8080)
  --authority FILE   the pinned authority key (default keys/dev/authority.pub.json)
  --audience AUD     the gateway's token audience (default liaison-gateway)
  --json             one JSON object per line, errors too
  --compact          envelopes in the compact binary encoding: about a third fewer bytes on a weak link
  --passphrase-env NAME   a sealed key file's passphrase from this environment variable
  --passphrase-fd N       … or from this file descriptor (else it is asked on the terminal)`;

/** `liaison hub`'s subcommands (hub.ts). */
export const HUB_USAGE = `liaison hub <command>      (configured from the environment: README §The CARICC hub)

  run         record every envelope, escalate overdue alerts, serve analysts (until SIGTERM)
  verify [--checkpoint FILE]...
              check the record's hash chain and the checkpoints the hub signed (those in Redis and
              the files given, kept outside it); prints the first break, exit 1 if any
  checkpoint --out FILE
              sign where the record stands now with the hub's key, keep it in Redis and in FILE`;

export const EXIT_CODES = `Exit codes: 0 done; 1 refused or failed (the message names the code, e.g. NOT_LINKED, or
the server that cannot be reached); 2 wrong usage or configuration (the message names the flag or
variable and the fix).`;

export const COMMAND_HELP: Record<string, string> = {
  chat: `liaison chat OFFICE --key FILE [options]

An interactive chat with a linked office. Lines typed are queued on disk beside the key file
(FILE.outbox.json) and sent in order: at once when connected, after a reconnect, or by the next
liaison chat. Messages from every linked office are shown, with delivery states (✓ accepted,
✓✓ delivered, 👁 read), presence, refused envelopes (REFUSED … CODE) and the connection's state.
Only what was shown is acknowledged. Ctrl-D leaves.

${CLIENT}`,
  alert: `liaison alert OFFICE --key FILE --title TEXT [options]

Sends a structured alert to a linked office; the inbox of this device is left untouched.

  --title TEXT        what the alert is about (required)
  --category C        one of ${AlertCategory.options.join(', ')} (default other)
  --precedence P      one of ${Precedence.options.join(', ')} (default PRIORITY); FLASH and
                      IMMEDIATE escalate to CARICC if not acknowledged in 5 / 30 min
  --description TEXT  free text (default empty)
  --bcp NAME          the border crossing point (default this office's)
  --plate PLATE       a vehicle's plate; repeat for more
  --person NAME       a person's name; repeat for more
  --hours N           how long the alert is valid (default 24)
  --handling H        conditions of use, shown on the item: H0 only for preventing and combating
                      crime (default), H1 not in judicial proceedings without permission, H2 not
                      disseminated without permission, H3 other (with --restriction TEXT)
  --reliability R     source reliability: A no doubt, B mostly reliable, C mostly unreliable,
                      X cannot be assessed (with --accuracy)
  --accuracy N        information accuracy: 1 not in doubt, 2 known personally to the source,
                      3 corroborated, 4 cannot be assessed (with --reliability)
  --case TITLE        open a case for this alert; --case-id UUID adds it to an existing case
  --attach FILE       a photo or document (up to 32 MiB), encrypted on this device and uploaded
                      in chunks that resume after a cut link; repeat for more
${CLIENT}`,
  inbox: `liaison inbox --key FILE [options]

Lists what waits for this device without taking it off the gateway, and every envelope it refused
with its code.

  --ack ALERT_ID      acknowledge an alert (tells the sender and CARICC); repeat for more
  --done              mark everything listed as processed (the gateway then removes it)
  --case ID           list only the items of one case (not with --done)
  --save-attachments DIR  fetch, verify and decrypt the attachments of what is listed into DIR
                      (the type shown is sniffed from the content, not the sender's word)
${CLIENT}`,
  directory: `liaison directory --key FILE [options]

Offices, links and the devices' safety numbers, verified against the pinned authority.

${CLIENT}`,
  'hub tail': `liaison hub tail [options]

An analyst's live view of the record: catches up from a position, then follows it, with
escalations. Runs until interrupted (Ctrl-C); refreshes its token and reconnects by itself.

  --key FILE          an analyst's key file (default keys/dev/devices/CARICC/analyst-1.key)
  --hub URL           the hub (default http://127.0.0.1:8090)
  --authority FILE    the pinned authority key (default keys/dev/authority.pub.json)
  --audience AUD      the hub's token audience (default liaison-hub)
  --gateway URL       also verify that gateway's directory against the pinned authority
  --office O          only entries from or to office O
  --border KZ-KG      only entries across that border
  --kind K            chat, alert, alert-ack or receipt
  --precedence P      one of ${Precedence.options.join(', ')}
  --after SEQ         start after this record position (default 0, the whole record)
  --token-lifetime S  seconds each token lives, 1..300 (default 60)
  --json              one record entry a line ({"escalation": …} for escalations)
  --passphrase-env NAME, --passphrase-fd N   a sealed key file's passphrase (else asked)`,
  'hub search': `liaison hub search [filters] [options]

The record's entries that match, a page at a time (as an analyst, with a fresh token).

  --office O --link A,B --border KZ-KG --kind K --precedence P
  --case ID               the items of one case (liaison alert --case prints its id)
  --since MS --until MS   accepted in that time range (ms since the epoch)
  --after SEQ             continue after this position (the "more:" line says which)
  --limit N               entries per page, 1..500 (default 50)
  --archive-key FILE      CARICC's archive key (liaison keys archive): opens entries past the
                          hub's window here, on the archive workstation; its passphrase from
                          --archive-passphrase-env NAME or --archive-passphrase-fd N
  --gateway URL           where the directory is read to verify them (default http://127.0.0.1:8080)
  --key FILE --hub URL --authority FILE --audience AUD   as for hub tail
  --json                  the page as one JSON object`,
  'hub token': `liaison hub token [--lifetime S] [options]

A fresh single-use analyst token for the hub's HTTP API, e.g.
curl -H "Authorization: Bearer $(liaison hub token)" http://127.0.0.1:8090/v1/stats

  --lifetime S            seconds it lives, 1..300 (default 60)
  --key FILE              an analyst's key file (default keys/dev/devices/CARICC/analyst-1.key)
  --audience AUD          the hub's audience (default liaison-hub)
  --json                  {"token": …, "lifetimeSeconds": …}`,
  gateway: `liaison gateway [--dev]

Runs a gateway configured from the environment (README), until SIGTERM or SIGINT.

  --dev    make (once) and load the development key set in keys/dev, use a local Redis when one
           answers and run the CARICC hub beside the gateway (npm start)`,
  demo: `liaison demo [--dir DIR]

Seals and opens a chat and an alert between two sample offices and shows a tampered envelope
refused (in a temporary key set, or DIR).`,
  hub: HUB_USAGE,
};

export const USAGE = `liaison <command> [options]        liaison <command> --help for its options

Office devices:
  chat OFFICE       an interactive chat with a linked office
  alert OFFICE      send a structured alert
  inbox             list what waits; acknowledge alerts
  directory         offices, links, safety numbers
  checkpoint        keep the office's copy of the hub's signed record checkpoint
CARICC:
  hub tail          an analyst's live view of the record
  hub search        search the record
  hub token         a fresh analyst token for the hub's HTTP API
  hub run | verify | checkpoint
Servers and keys:
  gateway [--dev]   run a gateway (npm start)
  keys ...          a device's own keys and enrolment request, development key set
  admin ...         CARICC's authority: approve enrolments, offices, links, revocations, publish
  demo              seal and open a sample exchange

  --version         the CLI's and the protocol's version

${EXIT_CODES}`;
