/**
 * How the S3 layer reports each finished request to whoever watches (metrics, the access log)
 * without importing them: `src/admin` implements `RequestObserver` and main.ts passes it in.
 */

/** One finished request. Never holds a secret: no secret key, signature, token or SSE key. */
export interface RequestRecord {
  requestId: string;
  /** The S3 operation as AWS names it (`GetObject`), or "Unknown" when routing failed. */
  operation: string;
  method: string;
  bucket?: string;
  key?: string;
  /** The access key that signed the request; absent for anonymous or unsigned requests. */
  accessKey?: string;
  status: number;
  /** The AWS error code of a failed request. */
  errorCode?: string;
  /** Request body bytes read by the server (after transfer decoding, before aws-chunked). */
  bytesIn: number;
  /** Response body bytes handed to the connection. */
  bytesOut: number;
  /** From the request's arrival until the response (status and headers) was ready. */
  ttfbMs: number;
  /** From the request's arrival until the last response byte was handed over (or the client left). */
  durationMs: number;
  remoteAddress?: string;
  userAgent?: string;
}

export interface RequestObserver {
  /** Called once per request, after its response body ended; must not throw or block. */
  requestDone(record: RequestRecord): void;
}

/** Where a request came from, as the HTTP server saw it. */
export interface ConnectionInfo {
  remoteAddress?: string;
}
