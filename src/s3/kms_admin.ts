/**
 * The built-in KMS's part of MinIO's admin API, its key store on the drives, and `shale admin
 * kms`:
 *
 *   GET  /minio/admin/v3/kms/status                   {"backend", "defaultKeyId", "keys"}
 *   POST /minio/admin/v3/kms/key/create?key-id=NAME   a new random master key
 *   GET  /minio/admin/v3/kms/key/list                 [{"name", "createdAt", "isDefault", ...}]
 *   GET  /minio/admin/v3/kms/key/status?key-id=NAME   {"key-id", "encryption-error"?, ...}
 *   POST /minio/admin/v3/kms/key/rotate?key-id=NAME   a new version of the key, then every
 *        object's data key sealed under an older one is re-sealed (metadata only, no data
 *        rewritten): {..., "resealed", "failed"}. Unlike MinIO (whose KES rotates outside).
 *
 * SigV4 like S3; root, or identities allowed `admin:KMSCreateKey` / `admin:KMSKeyStatus` (MinIO's
 * actions). Created keys are persisted sealed under the root key (src/crypto/FORMAT.md "Key-store
 * entry") as objects in the reserved IAM bucket: never in clear on the drives.
 */
import { KMS_STORE_PAGE_KEYS } from "../config/limits.ts";
import { CryptoError, type Kms, type StoredKmsKey } from "../crypto/mod.ts";
import {
  type AdminCliIo,
  adminRequest,
  adminTarget,
  authorizeAdmin,
  CREDENTIALS_NEEDED,
  type IamStore,
  parseAdminArgs,
} from "../iam/mod.ts";
import { IAM_BUCKET } from "../iam/store.ts";
import { resealObjectKeys } from "./_sse.ts";
import type { ObjectLayer } from "../object/types.ts";

export const KMS_PATH = "/minio/admin/v3/kms/";
const STORE_PREFIX = "kms/keys/";

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** Gives the KMS the keys created earlier (sealed, in the IAM bucket) and persists new ones there. */
export async function attachKmsStore(objects: ObjectLayer, kms: Kms): Promise<void> {
  const stored: StoredKmsKey[] = [];
  let after = "";
  for (;;) {
    const page = await objects.listObjects(IAM_BUCKET, {
      prefix: STORE_PREFIX,
      delimiter: "",
      after,
      maxKeys: KMS_STORE_PAGE_KEYS,
    });
    for (const o of page.objects) {
      const r = await objects.openObject(IAM_BUCKET, o.key);
      const text = await new Response(r.stream(0, r.info.size)).text();
      const e = JSON.parse(text) as Omit<StoredKmsKey, "sealed"> & { sealed: string };
      stored.push({ ...e, sealed: unb64(e.sealed) });
    }
    if (!page.isTruncated || page.nextAfter === undefined) break;
    after = page.nextAfter;
  }
  kms.attachStore({
    stored,
    persist: async (entry) => {
      const text = JSON.stringify({ ...entry, sealed: b64(entry.sealed) });
      const body = new TextEncoder().encode(text);
      await objects.putObject(
        IAM_BUCKET,
        `${STORE_PREFIX}${entry.name}/${entry.version}.json`,
        new Blob([body]).stream(),
        { size: body.length, metadata: { contentType: "application/json", user: {} } },
      );
    },
  });
}

export interface KmsAdminOptions {
  kms: Kms | undefined;
  /** Where objects are re-sealed after a rotation. */
  objects?: ObjectLayer;
  store: IamStore;
  region: string;
  now?: () => Date;
}

function answer(status: number, body: unknown): Response {
  return Response.json(body, { status });
}

async function authorized(
  request: Request,
  action: string,
  options: KmsAdminOptions,
): Promise<boolean> {
  return await authorizeAdmin(request, action, options).catch(() => undefined) !== undefined;
}

/** Answers the KMS admin paths; undefined for any other path. */
export async function handleKmsAdmin(
  request: Request,
  url: URL,
  options: KmsAdminOptions,
): Promise<Response | undefined> {
  if (!url.pathname.startsWith(KMS_PATH)) return undefined;
  await request.body?.cancel().catch(() => {});
  const op = url.pathname.slice(KMS_PATH.length).replace(/\/$/, "");
  const action = op === "key/create" || op === "key/rotate"
    ? "admin:KMSCreateKey"
    : "admin:KMSKeyStatus";
  if (!await authorized(request, action, options)) {
    return answer(403, { Code: "AccessDenied", Message: "Access Denied." });
  }
  const kms = options.kms;
  if (kms === undefined) {
    return answer(501, { Code: "NotImplemented", Message: "KMS is not configured" });
  }
  const keyId = url.searchParams.get("key-id") ?? "";
  try {
    switch (op) {
      case "status":
        return answer(200, kms.status());
      case "key/list":
        return answer(200, kms.listKeys());
      case "key/create":
        if (request.method !== "POST") break;
        return answer(200, await kms.createKey(keyId));
      case "key/rotate": {
        if (request.method !== "POST" || options.objects === undefined) break;
        const rotated = await kms.rotateKey(keyId === "" ? kms.defaultKeyId : keyId);
        const outcome = await resealObjectKeys(options.objects, kms, rotated.name);
        return answer(200, { ...rotated, ...outcome });
      }
      case "key/status": {
        const name = keyId === "" ? kms.defaultKeyId : keyId;
        const context = { mode: "SSE-KMS" as const, bucket: "", object: "" };
        const status: Record<string, string> = { "key-id": name };
        try {
          const { plaintext, sealed } = await kms.generateDataKey(name, context);
          const opened = await kms.decryptDataKey(name, sealed, context);
          if (opened.some((b, i) => b !== plaintext[i])) {
            status["decryption-error"] = "The data key did not open to itself";
          }
        } catch (e) {
          if (e instanceof CryptoError && e.code === "KMS.NotFoundException") throw e;
          status["encryption-error"] = e instanceof Error ? e.message : String(e);
        }
        return answer(200, status);
      }
    }
  } catch (e) {
    if (e instanceof CryptoError) {
      const status = e.code === "KMS.NotFoundException" ? 404 : 400;
      return answer(status, { Code: e.code, Message: e.message });
    }
    throw e;
  }
  return answer(400, { Code: "InvalidRequest", Message: `Unknown KMS admin call "${op}"` });
}

function usage(io: AdminCliIo, problem: string): number {
  io.printError(`shale admin: ${problem}`);
  io.printError(
    "usage: shale admin kms status | kms key list | kms key create NAME | kms key status [NAME] | kms key rotate [NAME]",
  );
  return 2;
}

/** `shale admin kms ...` over the admin API. */
export async function runKmsCommand(args: string[], io: AdminCliIo): Promise<number> {
  const parsed = parseAdminArgs(args);
  if (typeof parsed === "string") return usage(io, parsed);
  const { flags, words } = parsed;
  const who = adminTarget(flags, io);
  if (who === undefined) return usage(io, CREDENTIALS_NEEDED);
  const [first, second, name] = words;
  let call: [string, string, Record<string, string>] | undefined;
  if (first === "status" && second === undefined) call = ["GET", "kms/status", {}];
  else if (first === "key" && second === "list") call = ["GET", "kms/key/list", {}];
  else if (first === "key" && second === "create" && name !== undefined) {
    call = ["POST", "kms/key/create", { "key-id": name }];
  } else if (first === "key" && second === "rotate") {
    call = ["POST", "kms/key/rotate", name === undefined ? {} : { "key-id": name }];
  } else if (first === "key" && second === "status") {
    call = ["GET", "kms/key/status", name === undefined ? {} : { "key-id": name }];
  }
  if (call === undefined) return usage(io, "unknown kms command");
  const res = await adminRequest(who, call[0], call[1], call[2], "");
  if (res.status !== 200) {
    io.printError(`shale admin: ${res.status} ${res.text}`);
    return 1;
  }
  io.print(JSON.stringify(JSON.parse(res.text), null, 2));
  return 0;
}
