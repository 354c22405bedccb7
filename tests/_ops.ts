/** Helpers for the operations suites (e2e_ops_*): hand-signed requests to a test server. */
import { sha256Hex, signRequestForTest } from "../src/auth/testing.ts";
import type { TestServer } from "./_server.ts";

export interface SignedFetchOptions {
  body?: Uint8Array<ArrayBuffer>;
  headers?: Record<string, string>;
  /** Raw query string without "?". */
  query?: string;
  /** A different secret than the server's (a failing signature). */
  secretKey?: string;
  client?: Deno.HttpClient;
}

/** A SigV4 header-signed request (signed payload) to the test server. */
export async function signedFetch(
  s: TestServer,
  method: string,
  path: string,
  opts: SignedFetchOptions = {},
): Promise<Response> {
  const url = new URL(path + (opts.query ? `?${opts.query}` : ""), s.endpoint);
  const headers = new Headers(opts.headers);
  headers.set("host", url.host);
  const signed = signRequestForTest(
    { method, rawPath: url.pathname, rawQuery: opts.query ?? "", headers },
    {
      accessKey: s.accessKey,
      secretKey: opts.secretKey ?? s.secretKey,
      region: s.region,
      payloadHash: sha256Hex(opts.body ?? new Uint8Array()),
    },
  );
  return await fetch(url, {
    method,
    headers: signed.headers,
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(opts.client !== undefined ? { client: opts.client } : {}),
  });
}
