/** What every operation receives: the request, where it points, who signed it, and the storage. */
import type { AuthResult } from "../auth/types.ts";
import type { ObjectLayer } from "../object/types.ts";
import type { CredentialStore } from "./credentials.ts";
import { S3Error } from "./errors.ts";
import type { OperationName } from "./router.ts";
import { emptyStream, guardBody, prepareBody, type PreparedBody } from "./_body.ts";
import type { RequestObserver } from "./observer.ts";
import type { SseOptions } from "./_sse.ts";

export interface S3Options {
  objects: ObjectLayer;
  credentials: CredentialStore;
  region: string;
  /** Domains for virtual-host-style requests. */
  domains: readonly string[];
  /** Server clock (tests pass a fixed one). */
  now?: () => Date;
  /** Told about every finished request (metrics, access log). */
  observer?: RequestObserver;
  /** Server-side encryption: the KMS and SSE-C transport rules (src/s3/_sse.ts). */
  sse?: SseOptions;
}

export type SignedAuth = Extract<AuthResult, { kind: "signed" }>;

export class RequestContext {
  #prepared: PreparedBody | undefined;

  constructor(
    readonly request: Request,
    readonly url: URL,
    readonly requestId: string,
    readonly operation: OperationName,
    readonly options: S3Options,
    readonly where: { bucket?: string; key?: string },
    /** Undefined for unauthenticated operations (preflight OPTIONS, PostObject's own auth). */
    readonly auth: SignedAuth | undefined,
    /** The client's address without the port, when known. */
    readonly sourceIp?: string,
  ) {}

  get objects(): ObjectLayer {
    return this.options.objects;
  }
  get headers(): Headers {
    return this.request.headers;
  }
  get query(): URLSearchParams {
    return this.url.searchParams;
  }
  get region(): string {
    return this.options.region;
  }
  get bucket(): string {
    if (this.where.bucket === undefined) throw new Error("Operation needs a bucket");
    return this.where.bucket;
  }
  get key(): string {
    if (this.where.key === undefined) throw new Error("Operation needs a key");
    return this.where.key;
  }

  /** The request payload, decoded and verified as it streams; taken once. */
  body(): PreparedBody {
    if (this.#prepared !== undefined) return this.#prepared;
    if (this.auth === undefined && this.operation !== "PostObject") {
      // An anonymous request a bucket policy allowed: a plain body of Content-Length bytes.
      const header = this.request.headers.get("content-length");
      const length = header !== null && /^\d{1,15}$/.test(header) ? Number(header) : -1;
      const raw = this.request.body;
      this.#prepared = raw === null
        ? { stream: emptyStream(), size: 0 }
        : { stream: guardBody(raw, length), size: length };
    } else if (this.auth === undefined) {
      this.#prepared = { stream: this.request.body ?? emptyStream(), size: -1 };
    } else {
      this.#prepared = prepareBody(this.request.body, this.request.headers, this.auth);
    }
    return this.#prepared;
  }

  /** An integer query parameter in [min, max], or `fallback` when absent. */
  intParam(name: string, fallback: number, min: number, max: number): number {
    const v = this.query.get(name);
    if (v === null || v === "") return fallback;
    if (!/^-?\d+$/.test(v) || Number(v) < min) {
      throw new S3Error("InvalidArgument", {
        message: `Provided ${name} not an integer or within integer range`,
        extra: { ArgumentName: name, ArgumentValue: v },
      });
    }
    return Math.min(Number(v), max);
  }
}

export type Operation = (ctx: RequestContext) => Promise<Response>;
