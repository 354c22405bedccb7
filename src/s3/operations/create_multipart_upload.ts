import type { NewMultipartOptions } from "../../object/types.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { parseChecksumAlgorithm, parseChecksumType } from "../_checksums.ts";
import { metadataFromHeaders, storageClassFromHeaders, tagsFromHeader } from "../_metadata.ts";
import { xmlResponse } from "../_respond.ts";
import { rejectUnsupportedHeaders } from "../_xml_body.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";

import { newEncryption, requestedEncryption, setSseHeaders } from "../_sse.ts";
export async function createMultipartUpload(ctx: RequestContext): Promise<Response> {
  rejectUnsupportedHeaders(ctx.headers);
  const opts: NewMultipartOptions = { metadata: metadataFromHeaders(ctx.headers) };
  const storageClass = storageClassFromHeaders(ctx.headers);
  if (storageClass !== undefined) opts.storageClass = storageClass;
  const tags = tagsFromHeader(ctx.headers.get("x-amz-tagging"));
  if (tags !== undefined) opts.tags = tags;
  const algorithm = parseChecksumAlgorithm(ctx.headers.get("x-amz-checksum-algorithm"));
  const type = parseChecksumType(ctx.headers.get("x-amz-checksum-type"));
  if (type !== undefined && algorithm === undefined) {
    throw new S3Error("InvalidRequest", {
      message:
        "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
    });
  }
  if (algorithm !== undefined) {
    opts.checksumAlgorithm = algorithm;
    // AWS: CRC64NVME is full-object only; SHA families are composite only; CRC32/CRC32C either.
    const resolved = type ?? (algorithm === "CRC64NVME" ? "FULL_OBJECT" : "COMPOSITE");
    if (
      (resolved === "COMPOSITE" && algorithm === "CRC64NVME") ||
      (resolved === "FULL_OBJECT" && (algorithm === "SHA1" || algorithm === "SHA256"))
    ) {
      throw new S3Error("InvalidRequest", {
        message:
          `The ${resolved} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
      });
    }
    opts.checksumType = resolved;
  }
  // The upload's data key is made now; every part is encrypted under it (_sse.ts).
  const encryption = await requestedEncryption(ctx);
  let sse;
  if (encryption !== undefined) {
    const created = await newEncryption(ctx, encryption, {
      bucket: ctx.bucket,
      key: ctx.key,
      multipart: true,
    });
    created.dataKey.fill(0);
    sse = created.sse;
    opts.metadata.internal = created.internal;
  }
  const uploadId = await ctx.objects.newMultipartUpload(ctx.bucket, ctx.key, opts);
  const sseHeaders = new Headers();
  setSseHeaders(
    sseHeaders,
    sse,
    encryption?.mode === "SSE-C" ? encryption.customerKey : undefined,
  );
  const headers: Record<string, string> = Object.fromEntries(sseHeaders);
  if (opts.checksumAlgorithm !== undefined && opts.checksumType !== undefined) {
    headers["x-amz-checksum-algorithm"] = opts.checksumAlgorithm;
    headers["x-amz-checksum-type"] = opts.checksumType;
  }
  const w = new XmlWriter().open("InitiateMultipartUploadResult", { xmlns: S3_XMLNS });
  w.leaf("Bucket", ctx.bucket).leaf("Key", ctx.key).leaf("UploadId", uploadId).close();
  return xmlResponse(w, { headers });
}
