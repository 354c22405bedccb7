/**
 * The heal part of MinIO's admin API, in MinIO's path shape:
 *
 *   POST /minio/admin/v3/heal/                    start healing every bucket
 *   POST /minio/admin/v3/heal/{bucket}[/{prefix}] start healing a bucket (or the keys under prefix)
 *        -> 200 {"clientToken": id, "startTime": ...}
 *   POST or GET the same path with ?clientToken=id  -> 200 progress (see HealStatus)
 *   ... ?clientToken=id&forceStop=true              -> stops it, then its progress
 *
 *   POST /minio/admin/v3/background-heal/status    -> what the background heal did (madmin's
 *        BgHealState: `mc admin heal ALIAS` prints it), with no per-drive detail
 *
 * Authenticated with SigV4 like S3 and allowed to root or to identities whose policies allow
 * `admin:Heal` (MinIO's action for it). The request body (MinIO sends its heal options) is not
 * read. Unlike MinIO: the progress answer carries counters (scanned, healed, failed, bytes)
 * rather than a list of healed items, and every heal is a deep one (every shard frame is read).
 */
import { SigV4Error } from "../auth/mod.ts";
import { type HealProgress, type HealSequences, TooManyHealSequences } from "../background/mod.ts";
import { authorizeAdmin, IAM_BUCKET, type IamStore } from "../iam/mod.ts";
import { BucketNotFound, QuorumLost } from "../object/mod.ts";

export const HEAL_PATH = "/minio/admin/v3/heal/";
const BACKGROUND_STATUS_PATH = "/minio/admin/v3/background-heal/status";
/** S3's bucket naming rules, in short: 3-63 of a-z 0-9 . -, no "..". */
const BUCKET_NAME = /^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export interface HealApiOptions {
  sequences: HealSequences;
  store: IamStore;
  region: string;
  now?: () => Date;
}

/** The progress answer: MinIO's `summary` and times, and Shale's counters. */
export interface HealStatus {
  clientToken: string;
  /** "running", "finished", "stopped" or "failed" (MinIO: running, finished, stopped). */
  summary: HealProgress["state"];
  bucket: string;
  prefix: string;
  startTime: string;
  endTime?: string;
  detail?: string;
  objectsScanned: number;
  objectsHealed: number;
  objectsFailed: number;
  bytesHealed: number;
}

/** Answers a heal request, or undefined when the path is not one. */
export async function handleHealAdmin(
  request: Request,
  url: URL,
  options: HealApiOptions,
): Promise<Response | undefined> {
  const path = url.pathname === HEAL_PATH.slice(0, -1) ? HEAL_PATH : url.pathname;
  const background = path === BACKGROUND_STATUS_PATH;
  if (!path.startsWith(HEAL_PATH) && !background) return undefined;
  if (request.method !== "POST" && request.method !== "GET") {
    return answer(405, { Code: "MethodNotAllowed", Message: "Use POST (or GET for progress)" });
  }
  await request.body?.cancel().catch(() => {});
  try {
    const denied = await authorize(request, options);
    if (denied !== undefined) return denied;
  } catch (e) {
    if (e instanceof SigV4Error) {
      const forbidden = ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"];
      return answer(forbidden.includes(e.code) ? 403 : 400, { Code: e.code, Message: e.message });
    }
    throw e;
  }
  if (background) {
    const totals = options.sequences.totals;
    return answer(200, {
      offline_nodes: [],
      ScannedItemsCount: totals?.counters.scanned ?? 0,
      HealDisks: [],
      sets: [],
      mrf: {},
      sc_parity: {},
    });
  }
  const rest = decodeURIComponent(path.slice(HEAL_PATH.length));
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? "" : rest.slice(slash + 1);
  const token = url.searchParams.get("clientToken");
  const seqs = options.sequences;
  if (token !== null && token !== "") {
    const p = url.searchParams.get("forceStop") === "true"
      ? await seqs.stop(token)
      : seqs.get(token);
    if (p === undefined) {
      return answer(404, {
        Code: "XMinioHealNoSuchProcess",
        Message: `No heal sequence "${token}" (finished ones are forgotten after a while)`,
      });
    }
    return answer(200, status(p));
  }
  if (request.method !== "POST") {
    return answer(400, { Code: "InvalidArgument", Message: "clientToken is required" });
  }
  // A bucket name as S3 allows them (or the IAM bucket), so nothing else reaches the drives.
  if (bucket !== "" && bucket !== IAM_BUCKET && !BUCKET_NAME.test(bucket)) {
    return answer(400, { Code: "InvalidBucketName", Message: `Not a bucket name: "${bucket}"` });
  }
  try {
    const p = await seqs.start(bucket === "" ? undefined : bucket, prefix);
    return answer(200, { clientToken: p.id, startTime: p.started });
  } catch (e) {
    if (e instanceof BucketNotFound) {
      return answer(404, {
        Code: "NoSuchBucket",
        Message: `The specified bucket does not exist: "${bucket}"`,
      });
    }
    if (e instanceof QuorumLost) {
      return answer(503, { Code: "XMinioServerNotInitialized", Message: e.message });
    }
    if (e instanceof TooManyHealSequences) {
      return answer(503, { Code: "XMinioHealAlreadyRunning", Message: e.message });
    }
    throw e;
  }
}

export function status(p: HealProgress): HealStatus {
  return {
    clientToken: p.id,
    summary: p.state,
    bucket: p.bucket ?? "",
    prefix: p.prefix,
    startTime: p.started,
    ...(p.finished !== undefined ? { endTime: p.finished } : {}),
    ...(p.error !== undefined ? { detail: p.error } : {}),
    objectsScanned: p.scanned,
    objectsHealed: p.healed,
    objectsFailed: p.failed,
    bytesHealed: p.bytes,
  };
}

/** SigV4 as S3 checks it, then `admin:Heal`; a Response when refused. */
async function authorize(request: Request, options: HealApiOptions): Promise<Response | undefined> {
  // As MinIO (and the IAM admin API): madmin signs admin requests with whatever region it was
  // given, often none; the signature is still checked over the scope it names.
  const identity = await authorizeAdmin(request, "admin:Heal", { ...options, anyRegion: true });
  return identity === undefined
    ? answer(403, { Code: "AccessDenied", Message: "Access Denied." })
    : undefined;
}

function answer(status: number, body: unknown): Response {
  return Response.json(body, { status });
}
