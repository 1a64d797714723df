/**
 * Errors a user can act on. The CLI prints `message` as one line and exits with `exitCode`:
 * 2 for bad input or usage, 1 for an internal failure (DESIGN.md, CLI contract).
 */
export type ErrorCode =
  | 'BAD_INPUT'
  | 'BAD_CONFIG'
  | 'NOT_FOUND'
  | 'NOT_A_REPO'
  | 'USAGE'
  | 'SANDBOX'
  | 'POLICY'
  | 'GIT'
  | 'INTERNAL';

export class SutureError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: 1 | 2;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SutureError';
    this.code = code;
    this.exitCode = code === 'INTERNAL' || code === 'SANDBOX' || code === 'GIT' ? 1 : 2;
  }
}

/** Bad input: a file, payload or argument the user must fix. Exit 2. */
export class InputError extends SutureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BAD_INPUT', message, options);
    this.name = 'InputError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}
