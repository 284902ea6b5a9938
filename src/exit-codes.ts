/** Stable exit codes (documented in README "Exit codes"). */
export const EXIT_OK = 0;
/** At least one finding at or above the fail threshold (or a gate refused to publish). */
export const EXIT_FINDINGS = 1;
/** Usage or configuration error, a path that does not exist, sandbox asked for but unavailable. */
export const EXIT_USAGE = 2;
/** dag-guard itself failed unexpectedly (a bug: please report it). */
export const EXIT_INTERNAL = 3;

/** An error whose message is meant for the user as is (no stack trace), with the exit code to use. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_USAGE) {
    super(message);
    this.name = 'UserError';
  }
}
