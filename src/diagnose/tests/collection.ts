/** What every runner's collection rules answer (see collect-python.ts, collect-node.ts). */

export interface Collection {
  /** Whether the command, run as the repo runs it, collects a new test file at this repo path. */
  collects(path: string): boolean;
  /** Where it looks, most specific first: directories for a new file when no existing test guides. */
  roots: string[];
  /** The command names test files only: a new file is never collected, a test must go into one of them. */
  explicit: string[];
  /** What could not be read (a computed config value, an unknown option), placement then follows conventions. */
  notes: string[];
  /** pytest `-m` markers a new test needs to be selected. */
  markers?: string[];
  /** pytest python_functions prefix when it is not `test` (a test function's name must start with it). */
  functionPrefix?: string;
  /** TypeScript test files run (a TS transform or loader is configured). */
  typescript?: boolean;
  /** File extensions the runner picks up in directories (mocha `extension`, node --test, jest moduleFileExtensions). */
  extensions?: string[];
}
