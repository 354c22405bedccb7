/**
 * The HTTP server: Deno.serve on the configured address, health endpoints, the S3 handler, and a
 * graceful shutdown (stop accepting, let in-flight requests finish within SHUTDOWN_GRACE_MS).
 */
import { SHUTDOWN_GRACE_MS } from "../config/limits.ts";
import { newRequestId } from "../util/ids.ts";
import { logger } from "../util/logger.ts";
import type { S3Options } from "./context.ts";
import { createS3Handler } from "./dispatch.ts";

export interface S3ServerOptions extends S3Options {
  hostname: string;
  port: number;
  /** PEM certificate chain and private key: the server speaks HTTPS. */
  tls?: { cert: string; key: string };
  /**
   * Answers MinIO's other reserved paths under /minio/ (metrics); `undefined` passes the request
   * on to the S3 handler. Supplied by src/admin through main.ts (s3 may not import admin).
   */
  admin?: (request: Request, url: URL) => Promise<Response | undefined>;
}

export interface S3Server {
  /** The address actually bound (port 0 resolved). */
  hostname: string;
  /** "https" when serving TLS. */
  scheme: "http" | "https";
  port: number;
  /** Stops accepting, waits for in-flight requests up to `graceMs`, then closes connections. */
  shutdown(graceMs?: number): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

/** MinIO's health paths, answered without authentication (load balancers probe them). */
async function health(path: string, options: S3Options): Promise<Response | undefined> {
  if (path === "/minio/health/live" || path === "/minio/health/ready") {
    return new Response(null, { status: 200 });
  }
  if (path === "/minio/health/cluster" || path === "/minio/health/cluster/read") {
    try {
      const status = await options.objects.status();
      const ok = path.endsWith("/read") ? status.readable : status.writable;
      return new Response(null, { status: ok ? 200 : 503 });
    } catch {
      return new Response(null, { status: 503 });
    }
  }
  return undefined;
}

export function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const handler = createS3Handler(options);
  const abort = new AbortController();
  let bound: Deno.NetAddr | undefined;
  // Deno's server.shutdown() cuts the bodies of requests still uploading, so draining is done
  // here first: new requests get 503 while the ones in flight run to their end.
  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    ...(options.tls !== undefined ? { cert: options.tls.cert, key: options.tls.key } : {}),
    signal: abort.signal,
    // onListen runs inside Deno.serve; the address is read right after it returns.
    onListen: (addr) => {
      bound = addr;
    },
    onError: (e) => {
      logger.error("Unhandled server error", { error: e instanceof Error ? e.stack : String(e) });
      return new Response("Internal Server Error", { status: 500 });
    },
  }, async (request, info) => {
    if (draining) {
      return new Response(null, {
        status: 503,
        headers: { connection: "close", "retry-after": "1" },
      });
    }
    inFlight++;
    try {
      const url = new URL(request.url);
      if (url.pathname.startsWith("/minio/")) {
        const r = url.pathname.startsWith("/minio/health/")
          ? await health(url.pathname, options)
          : await options.admin?.(request, url);
        if (r !== undefined) {
          r.headers.set("x-amz-request-id", newRequestId());
          return r;
        }
      }
      const remote = info.remoteAddr;
      return await handler(request, {
        remoteAddress: remote.transport === "tcp" ? `${remote.hostname}:${remote.port}` : "",
      });
    } finally {
      inFlight--;
      if (inFlight === 0) idle?.();
    }
  });
  const addr = bound ?? server.addr;
  return Promise.resolve({
    hostname: addr.hostname,
    port: addr.port,
    scheme: options.tls !== undefined ? "https" : "http",
    shutdown: async (graceMs = SHUTDOWN_GRACE_MS) => {
      draining = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<"timeout">((r) => {
        timer = setTimeout(() => r("timeout"), graceMs);
      });
      const drained = inFlight === 0
        ? Promise.resolve("done")
        : new Promise<string>((r) => (idle = () => r("done")));
      let outcome = await Promise.race([drained, deadline]);
      if (outcome === "done") {
        outcome = await Promise.race([server.shutdown().then(() => "done"), deadline]);
      }
      clearTimeout(timer);
      if (outcome === "timeout") {
        logger.warn("Shutdown grace period over: closing remaining connections", { graceMs });
        abort.abort();
      }
    },
    finished: server.finished,
  });
}
