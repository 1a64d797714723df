/** An error with the HTTP status to answer; handlers may throw it too. `reason` labels the rejection metric. */
export class HttpError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, opts: { reason?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.status = status;
    this.reason = opts.reason ?? `http_${status}`;
    this.headers = opts.headers ?? {};
  }
}
