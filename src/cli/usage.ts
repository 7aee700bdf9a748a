/** A command was called wrongly: main prints the message and exits with code 2. */
export class UsageError extends Error {}

/** Where a command writes its output, one line at a time (stdout in main, a buffer in tests). */
export type Print = (line: string) => void;
