/** x-amz-copy-source: `/bucket/key` or `bucket/key`, URL-encoded, optional `?versionId=`. */
import { COPY_SOURCE_BYTES_MAX } from "../config/limits.ts";
import type { ObjectReader } from "../object/types.ts";
import type { RequestContext } from "./context.ts";
import { S3Error } from "./errors.ts";
import { checkBucketName, checkObjectKey } from "./_names.ts";

export interface CopySource {
  bucket: string;
  key: string;
}

export function parseCopySource(header: string | null): CopySource {
  const invalid = () =>
    new S3Error("InvalidArgument", {
      message: "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
      extra: { ArgumentName: "x-amz-copy-source", ArgumentValue: header ?? "" },
    });
  if (header === null || header.length > COPY_SOURCE_BYTES_MAX) throw invalid();
  let path = header;
  const q = path.indexOf("?");
  if (q >= 0) {
    const params = new URLSearchParams(path.slice(q + 1));
    const version = params.get("versionId");
    if (version !== null && version !== "null") throw new S3Error("NoSuchVersion");
    path = path.slice(0, q);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw invalid();
  }
  decoded = decoded.replace(/^\//, "");
  const slash = decoded.indexOf("/");
  if (slash <= 0 || slash === decoded.length - 1) throw invalid();
  const source = { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
  checkBucketName(source.bucket);
  checkObjectKey(source.key);
  return source;
}

/** Opens the copy source named by the request. */
export function openCopySource(
  ctx: RequestContext,
): Promise<ObjectReader & { source: CopySource }> {
  const source = parseCopySource(ctx.headers.get("x-amz-copy-source"));
  return ctx.objects.openObject(source.bucket, source.key).then((r) =>
    Object.assign(r, { source })
  );
}
