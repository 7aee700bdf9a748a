import { Handling } from '../../protocol/v1/payload.js';
import { UsageError } from './usage.js';

// The handling code an office sends with (PROTOCOL.md §8.1): given on the command line for one
// command, else the office's default from the environment (a desk's shell profile or service
// unit sets it once), else none (shown as H0). The SDK's `defaultHandling` applies it.

/** The environment variables that hold an office's default handling. */
export const DEFAULT_HANDLING_ENV = 'LIAISON_DEFAULT_HANDLING';
export const DEFAULT_RESTRICTION_ENV = 'LIAISON_DEFAULT_RESTRICTION';

/** `--handling H` and `--restriction TEXT` (with H3), for chat and alert. */
export const HANDLING_OPTIONS = {
  handling: { type: 'string' },
  restriction: { type: 'string' },
} as const;

/** How help explains the codes and where the default comes from. */
export const HANDLING_HELP = `  --handling H        conditions of use, shown on the item: H0 only for preventing and combating
                      crime, H1 not in judicial proceedings without permission, H2 not
                      disseminated without permission, H3 other (with --restriction TEXT);
                      default: $${DEFAULT_HANDLING_ENV} (and $${DEFAULT_RESTRICTION_ENV} for H3),
                      else H0`;

/**
 * The handling code from the flags, else from the environment; undefined when neither names one.
 * A code that is not H0–H3, or H3 without a restriction, is a usage error naming where it came from.
 */
export function handlingFrom(
  flags: { handling?: string | undefined; restriction?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): Handling | undefined {
  const fromFlags = flags.handling !== undefined || flags.restriction !== undefined;
  const code = fromFlags ? flags.handling : env[DEFAULT_HANDLING_ENV] || undefined;
  if (code === undefined && !fromFlags) return undefined;
  const restriction = fromFlags ? flags.restriction : env[DEFAULT_RESTRICTION_ENV] || undefined;
  const parsed = Handling.safeParse({
    code,
    ...(restriction !== undefined ? { restriction } : {}),
  });
  if (parsed.success) return parsed.data;
  throw new UsageError(
    fromFlags
      ? '--handling: expected H0, H1, H2 or H3; H3 needs --restriction TEXT, and only H3 takes one'
      : `${DEFAULT_HANDLING_ENV}: expected H0, H1, H2 or H3; H3 needs ${DEFAULT_RESTRICTION_ENV}, and only H3 takes one`,
  );
}

/** A handling code as the operator reads it: `H3 (not to customs)`. */
export const handlingText = (h: Handling | undefined): string =>
  h ? (h.restriction ? `${h.code} (${h.restriction})` : h.code) : 'H0';
