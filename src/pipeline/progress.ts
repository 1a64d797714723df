/** Progress lines on stderr (stdout is reserved for --json). Silent under SUTURE_QUIET=1. */
export type Progress = (message: string) => void;

export function stderrProgress(prefix = 'suture'): Progress {
  return (message) => {
    if (process.env.SUTURE_QUIET === '1') return;
    process.stderr.write(`[${prefix}] ${message}\n`);
  };
}
