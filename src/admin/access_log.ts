/**
 * The access log: one JSON line per request (SHALE_ACCESS_LOG=on or --access-log). It carries who
 * and what, never a secret: the record it is built from holds no secret key, signature, session
 * token or SSE key (tests/e2e_ops_logs_test.ts greps the output for them).
 */
import type { RequestObserver, RequestRecord } from "../s3/mod.ts";
import { logger } from "../util/logger.ts";

export class AccessLog implements RequestObserver {
  requestDone(r: RequestRecord): void {
    logger.info("Access", {
      requestId: r.requestId,
      principal: r.accessKey ?? null,
      operation: r.operation,
      method: r.method,
      bucket: r.bucket ?? null,
      key: r.key ?? null,
      status: r.status,
      ...(r.errorCode !== undefined ? { errorCode: r.errorCode } : {}),
      bytesIn: r.bytesIn,
      bytesOut: r.bytesOut,
      durationMs: Math.round(r.durationMs * 1000) / 1000,
      ttfbMs: Math.round(r.ttfbMs * 1000) / 1000,
      remoteAddress: r.remoteAddress ?? null,
      userAgent: r.userAgent ?? null,
    });
  }
}

/** Tells every observer in turn. */
export function combineObservers(observers: readonly RequestObserver[]): RequestObserver {
  return {
    requestDone(r) {
      for (const o of observers) o.requestDone(r);
    },
  };
}
