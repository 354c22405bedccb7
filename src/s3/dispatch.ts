/**
 * One request, start to end: request id, header-size check, routing, name checks, SigV4, the
 * operation, then errors turned into AWS's XML and the headers every response carries
 * (x-amz-request-id, x-amz-id-2, CORS for browsers).
 */
import { authenticateRequest } from "../auth/mod.ts";
import {
  type ActionCheck,
  actionFor,
  bucketPolicyFor,
  copySourceCheck,
  type Identity,
  isAllowed,
  type Policy,
  requestContext,
  rootIdentity,
  s3Arn,
  type S3RequestFacts,
  UNAUTHORIZED_OPERATIONS,
} from "../iam/mod.ts";
import { BucketNotFound } from "../object/errors.ts";
import { REQUEST_HEADER_BYTES_MAX } from "../config/limits.ts";
import { newRequestId } from "../util/ids.ts";
import { logger } from "../util/logger.ts";
import { RequestContext, type S3Options } from "./context.ts";
import { S3Error, toS3Error } from "./errors.ts";
import { errorXml } from "./error_xml.ts";
import { OPERATION_LOADERS } from "./operations/mod.ts";
import { locate, rawTarget, type Route, routeRequest } from "./router.ts";
import { checkBucketName, checkObjectKey } from "./_names.ts";
import { corsResponseHeaders, type CorsRule, matchCorsRule } from "./_cors.ts";
import { type CopySource, parseCopySource } from "./_copy_source.ts";
import type { OperationName } from "./router.ts";
import { children, childText, parseXml, readBoundedText } from "./xml.ts";
import type { ConnectionInfo, RequestObserver, RequestRecord } from "./observer.ts";

/** Operations that do not carry SigV4 in headers or query. */
const UNSIGNED_OPERATIONS = new Set(["OptionsObject", "PostObject"]);

const HOST_ID = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))));

export type S3Handler = (request: Request, info?: ConnectionInfo) => Promise<Response>;

export function createS3Handler(options: S3Options): S3Handler {
  const observer = options.observer;
  if (observer === undefined) {
    return (request, info) => handleRequest(request, request.url, options, undefined, info);
  }
  return (request, info) => observeRequest(request, options, observer, info);
}

/**
 * `request` with another body. Not `new Request(request, init)`: that copies request.signal, and
 * reading it makes Deno 2.9 print a deprecation warning (not a JSON line) into the journal;
 * nothing here listens to the signal. The copy's URL is normalised (dot segments resolved), so
 * the raw target is passed on beside it: handleRequest's `target`.
 */
function withBody(request: Request, body: ReadableStream<Uint8Array>): Request {
  // fetch requires `duplex` for a streamed body; Deno's RequestInit type lacks it.
  const init: RequestInit & { duplex: "half" } = {
    method: request.method,
    headers: request.headers,
    body,
    duplex: "half",
  };
  return new Request(request.url, init);
}

/**
 * Runs the request with its body bytes counted on the way in and out, and reports it to the
 * observer once the response body has ended (or the client went away).
 */
async function observeRequest(
  request: Request,
  options: S3Options,
  observer: RequestObserver,
  info: ConnectionInfo | undefined,
): Promise<Response> {
  const started = performance.now();
  let bytesIn = 0;
  let counted = request;
  if (request.body !== null) {
    counted = withBody(request, countBytes(request.body, (n) => (bytesIn += n), () => {}));
  }
  const seen: Seen = {};
  const response = await handleRequest(counted, request.url, options, seen, info);
  const ttfbMs = performance.now() - started;
  const record: RequestRecord = {
    requestId: response.headers.get("x-amz-request-id") ?? "",
    operation: seen.route?.operation ?? "Unknown",
    method: request.method,
    status: response.status,
    bytesIn: 0,
    bytesOut: 0,
    ttfbMs,
    durationMs: ttfbMs,
  };
  if (seen.route?.bucket !== undefined) record.bucket = seen.route.bucket;
  if (seen.route?.key !== undefined) record.key = seen.route.key;
  if (seen.accessKey !== undefined) record.accessKey = seen.accessKey;
  if (seen.errorCode !== undefined) record.errorCode = seen.errorCode;
  if (info?.remoteAddress !== undefined) record.remoteAddress = info.remoteAddress;
  const agent = request.headers.get("user-agent");
  if (agent !== null) record.userAgent = agent;
  let bytesOut = 0;
  const report = () => {
    record.bytesIn = bytesIn;
    record.bytesOut = bytesOut;
    record.durationMs = performance.now() - started;
    try {
      observer.requestDone(record);
    } catch (e) {
      logger.error("Request observer failed", { requestId: record.requestId, error: e });
    }
  };
  if (response.body === null) {
    report();
    return response;
  }
  if (!response.headers.has("content-length")) {
    // XML and JSON documents (errors, listings) are strings already in memory, sent without a
    // declared length: keep them fixed bodies (a stream here would turn them chunked, and Deno
    // drops a streamed answer to a client that half-closed its upload early).
    const bytes = await response.bytes();
    bytesOut = bytes.byteLength;
    report();
    return new Response(bytes, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }
  // Object bodies stream with their Content-Length; count them as they go out.
  return new Response(countBytes(response.body, (n) => (bytesOut += n), report), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** What handleRequest learnt about a request, for the observer. */
interface Seen {
  route?: Route;
  accessKey?: string;
  errorCode?: string;
}

/** Passes a stream through, counting its bytes; `done` runs once when it ends, fails or is cancelled. */
function countBytes(
  source: ReadableStream<Uint8Array>,
  add: (n: number) => void,
  done: () => void,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          controller.close();
          finish();
          return;
        }
        add(value.byteLength);
        controller.enqueue(value);
      } catch (e) {
        controller.error(e);
        finish();
      }
    },
    async cancel(reason) {
      finish();
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** `target` is the URL as the client sent it: Deno.serve's request.url, dot segments kept. */
async function handleRequest(
  request: Request,
  target: string,
  options: S3Options,
  seen: Seen | undefined,
  info?: ConnectionInfo,
): Promise<Response> {
  const requestId = newRequestId();
  const url = new URL(target);
  const { rawPath, rawQuery } = rawTarget(target);
  let route: Route | undefined;
  let response: Response;
  try {
    checkHeaderSize(request.headers);
    route = routeRequest(
      {
        method: request.method,
        url,
        rawPath,
        host: request.headers.get("host") ?? url.host,
        headers: request.headers,
      },
      options.domains,
    );
    if (seen !== undefined) seen.route = route;
    if (route.bucket !== undefined) checkBucketName(route.bucket);
    if (route.key !== undefined) checkObjectKey(route.key);
    if (route.operation === "NotImplemented") {
      throw new S3Error("NotImplemented", {
        message: `${route.awsName} is not implemented yet`,
      });
    }
    let auth: RequestContext["auth"];
    if (!UNSIGNED_OPERATIONS.has(route.operation)) {
      // SigV2 signs `/bucket` + path even when the Host header named the bucket.
      const virtualHostBucket =
        locate("/", request.headers.get("host") ?? url.host, options.domains).bucket;
      const result = await authenticateRequest({
        method: request.method,
        rawPath,
        rawQuery,
        headers: request.headers,
        ...(virtualHostBucket !== undefined ? { virtualHostBucket } : {}),
      }, {
        region: options.region,
        now: options.now?.() ?? new Date(),
        lookup: (ak) => options.credentials.lookup(ak),
        // The AWS SDKs' STS clients sign with the "sts" service; nothing else may.
        ...(route.operation === "AssumeRole" ? { services: ["s3", "sts"] } : {}),
      });
      if (result.kind === "signed") {
        auth = result;
        if (seen !== undefined) seen.accessKey = result.accessKey;
      }
    }
    // Anonymous requests go on to be judged by the bucket policy alone (issue 7).
    if (!UNSIGNED_OPERATIONS.has(route.operation)) {
      const identity = auth === undefined ? undefined : await identityOf(options, auth.accessKey);
      request = await authorizeRequest(request, url, route, identity, auth, options, {
        requestId,
        ...(sourceIpOf(info) !== undefined ? { sourceIp: sourceIpOf(info)! } : {}),
      });
    }
    const opOptions = route.operation === "PostObject" ? rootSignersOnly(options) : options;
    const ctx = new RequestContext(
      request,
      url,
      requestId,
      route.operation,
      opOptions,
      {
        ...(route.bucket !== undefined ? { bucket: route.bucket } : {}),
        ...(route.key !== undefined ? { key: route.key } : {}),
      },
      auth,
      sourceIpOf(info),
    );
    const operation = await OPERATION_LOADERS[route.operation]();
    response = await operation(ctx);
  } catch (e) {
    response = errorResponse(e, request, rawPath, requestId, route);
    if (seen !== undefined) seen.errorCode = toS3Error(e)?.code ?? "InternalError";
  }
  response.headers.set("x-amz-request-id", requestId);
  response.headers.set("x-amz-id-2", HOST_ID);
  response.headers.set("server", "Shale");
  if (route?.operation !== "OptionsObject" && route?.bucket !== undefined) {
    const origin = request.headers.get("origin");
    if (origin !== null) await addCorsHeaders(response, options, route.bucket, origin, request);
  }
  return response;
}

function errorResponse(
  e: unknown,
  request: Request,
  rawPath: string,
  requestId: string,
  route: Route | undefined,
): Response {
  let err = toS3Error(e);
  if (err === undefined) {
    logger.error("Request failed unexpectedly", {
      requestId,
      method: request.method,
      path: rawPath,
      operation: route?.operation,
      error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ""}` : String(e),
    });
    err = new S3Error("InternalError");
  } else if (err.code === "InternalError") {
    logger.error("Request failed", { requestId, error: err.message });
  }
  const headers = new Headers(err.details.headers);
  if (err.code === "NotModified" || request.method === "HEAD") {
    // HEAD and 304 answers carry no body (the status says it all).
    return new Response(null, { status: err.status, headers });
  }
  headers.set("content-type", "application/xml");
  let resource = rawPath;
  try {
    resource = decodeURIComponent(rawPath);
  } catch { /* keep it encoded */ }
  return new Response(errorXml(err, { resource, requestId, hostId: HOST_ID }), {
    status: err.status,
    headers,
  });
}

/**
 * AWS limits the request header block; Deno's server accepts blocks up to about 64 KiB, so the
 * limit is checked here. Unlike AWS: a block of 64 KiB or more is refused by Deno's HTTP server
 * itself with a bare 400 (no XML, no request id) before Shale sees it (tested in
 * tests/e2e_hostile_test.ts).
 */
function checkHeaderSize(headers: Headers): void {
  let bytes = 0;
  for (const [name, value] of headers) bytes += name.length + value.length + 4;
  if (bytes > REQUEST_HEADER_BYTES_MAX) {
    throw new S3Error("RequestHeaderSectionTooLarge", {
      extra: { MaxSizeAllowed: String(REQUEST_HEADER_BYTES_MAX) },
    });
  }
}

async function addCorsHeaders(
  response: Response,
  options: S3Options,
  bucket: string,
  origin: string,
  request: Request,
): Promise<void> {
  let rules: CorsRule[];
  try {
    const doc = await options.objects.getBucketConfig(bucket, "cors");
    if (doc === undefined) return;
    rules = JSON.parse(doc) as CorsRule[];
  } catch {
    return;
  }
  const rule = matchCorsRule(rules, origin, request.method);
  if (rule === undefined) return;
  for (const [k, v] of Object.entries(corsResponseHeaders(rule, origin, { preflight: false }))) {
    response.headers.set(k, v);
  }
}

// ---------------------------------------------------------------------------------------------
// Authorization (issue 7): after SigV4, before the operation.

/** Who signed: the store's identity, or root for a store without IAM. */
async function identityOf(options: S3Options, accessKey: string): Promise<Identity> {
  const store = options.credentials;
  if (store.identity === undefined) return rootIdentity(accessKey);
  const identity = await store.identity(accessKey);
  // The key was valid a moment ago (SigV4 passed): it was removed, disabled or expired since.
  if (identity === undefined) throw new S3Error("InvalidAccessKeyId");
  return identity;
}

async function bucketPolicyOf(options: S3Options, bucket: string): Promise<Policy | undefined> {
  let json: string | undefined;
  try {
    json = await options.objects.getBucketConfig(bucket, "policy");
  } catch (e) {
    // No such bucket: no policy; the operation itself answers NoSuchBucket when allowed.
    if (e instanceof BucketNotFound) return undefined;
    throw e;
  }
  return bucketPolicyFor(bucket, json);
}

/**
 * Throws AccessDenied unless the identity (undefined: anonymous) may run the operation. Returns
 * the request the operation must read: for DeleteObjects the body is read here too (each key is
 * checked, as AWS does), so the operation gets a second branch of it.
 */
async function authorizeRequest(
  request: Request,
  url: URL,
  route: { operation: OperationName; bucket?: string; key?: string },
  identity: Identity | undefined,
  auth: RequestContext["auth"],
  options: S3Options,
  where: { requestId: string; sourceIp?: string },
): Promise<Request> {
  const { requestId, sourceIp } = where;
  if (identity?.isRoot === true || UNAUTHORIZED_OPERATIONS.has(route.operation)) return request;
  const facts: S3RequestFacts = {
    operation: route.operation,
    headers: request.headers,
    query: url.searchParams,
    secure: url.protocol === "https:",
    now: options.now?.() ?? new Date(),
    authType: auth === undefined
      ? "anonymous"
      : auth.presigned
      ? "REST-QUERY-STRING"
      : "REST-HEADER",
    ...(route.bucket !== undefined ? { bucket: route.bucket } : {}),
    ...(route.key !== undefined ? { key: route.key } : {}),
    ...(sourceIp !== undefined ? { sourceIp } : {}),
  };
  const context = requestContext(
    facts,
    identity === undefined
      ? undefined
      : { username: identity.username, userId: identity.accessKey },
  );
  const bucketPolicy = route.bucket === undefined
    ? undefined
    : await bucketPolicyOf(options, route.bucket);
  const demand = async (check: ActionCheck, policy = bucketPolicy, tagsOf?: CopySource) => {
    const objectTags = tagsOf === undefined
      ? undefined
      : () =>
        options.objects.getObjectInfo(tagsOf.bucket, tagsOf.key).then(
          (info) => info.tags,
          () => undefined,
        );
    const ok = await isAllowed(check, {
      identity,
      bucketPolicy: policy,
      context,
      ...(objectTags !== undefined ? { objectTags } : {}),
    });
    if (!ok) throw new S3Error("AccessDenied");
  };
  const check = actionFor(facts);
  if (check === undefined) throw new S3Error("AccessDenied");
  if (route.operation === "DeleteObjects" && route.bucket !== undefined) {
    return await authorizeDeleteObjects(request, url, route, auth, options, requestId, demand);
  }
  const target = route.bucket !== undefined && route.key !== undefined
    ? { bucket: route.bucket, key: route.key }
    : undefined;
  await demand(
    check,
    bucketPolicy,
    OBJECT_TAG_OPERATIONS.has(route.operation) ? target : undefined,
  );
  if (route.operation === "CopyObject" || route.operation === "UploadPartCopy") {
    const source = parseCopySource(request.headers.get("x-amz-copy-source"));
    await demand(copySourceCheck(source), await bucketPolicyOf(options, source.bucket), source);
  }
  return request;
}

/** Operations whose s3:ExistingObjectTag conditions read the object's current tags. */
const OBJECT_TAG_OPERATIONS = new Set([
  "GetObject",
  "HeadObject",
  "GetObjectTagging",
  "PutObjectTagging",
  "DeleteObjectTagging",
  "GetObjectAttributes",
  "GetObjectAcl",
]);

/**
 * DeleteObjects: s3:DeleteObject on every key in the body. The body (an XML document capped at
 * XML_BODY_BYTES_MAX) is teed: one branch is read and parsed here exactly as the operation
 * parses it, the other goes to the operation. A body that does not parse is left for the
 * operation to refuse (it reads the same bytes).
 *
 * Unlike AWS: one denied key denies the whole request (AWS reports AccessDenied per key).
 */
async function authorizeDeleteObjects(
  request: Request,
  url: URL,
  route: { operation: OperationName; bucket?: string; key?: string },
  auth: RequestContext["auth"],
  options: S3Options,
  requestId: string,
  demand: (check: ActionCheck) => Promise<void>,
): Promise<Request> {
  const bucket = route.bucket!;
  if (request.body === null) return request;
  const [mine, theirs] = request.body.tee();
  const branch = (body: ReadableStream<Uint8Array>) => withBody(request, body);
  const probe = new RequestContext(
    branch(mine),
    url,
    requestId,
    route.operation,
    options,
    { bucket },
    auth,
  );
  let keys: string[] = [];
  try {
    const root = await parseXml(await readBoundedText(probe.body().stream), "Delete", ["Object"]);
    keys = children(root, "Object").map((o) => childText(o, "Key") ?? "");
  } catch {
    keys = [];
  }
  for (const key of keys) await demand({ action: "s3:DeleteObject", resource: s3Arn(bucket, key) });
  return branch(theirs);
}

/**
 * PostObject checks its own signature inside the form, where authorization cannot see the key.
 * Unlike AWS: until per-key authorization reaches PostObject, only root (and root's service
 * accounts without an inline policy) may sign browser POST uploads; other keys are unknown there.
 */
function rootSignersOnly(options: S3Options): S3Options {
  const store = options.credentials;
  if (store.identity === undefined) return options;
  return {
    ...options,
    credentials: {
      lookup: async (accessKey) => {
        const identity = await store.identity!(accessKey);
        return identity?.isRoot === true ? await store.lookup(accessKey) : undefined;
      },
    },
  };
}

/** The client's address without the port (the server reports `host:port`, IPv6 unbracketed). */
function sourceIpOf(info: ConnectionInfo | undefined): string | undefined {
  const address = info?.remoteAddress;
  if (address === undefined || address === "") return undefined;
  const colon = address.lastIndexOf(":");
  return colon < 0 ? address : address.slice(0, colon).replace(/^\[|\]$/g, "");
}
