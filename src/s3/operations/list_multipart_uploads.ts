import { LIST_PAGE_ENTRIES_MAX } from "../../config/limits.ts";
import type { RequestContext } from "../context.ts";
import { encodeForListing, isoDate, writeOwner, xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";
import { listingParams } from "./_listing.ts";

export async function listMultipartUploads(ctx: RequestContext): Promise<Response> {
  const p = listingParams(ctx);
  const maxUploads = ctx.intParam("max-uploads", LIST_PAGE_ENTRIES_MAX, 0, LIST_PAGE_ENTRIES_MAX);
  const keyMarker = ctx.query.get("key-marker") ?? "";
  const uploadIdMarker = ctx.query.get("upload-id-marker") ?? "";
  const res = maxUploads === 0
    ? { uploads: [], prefixes: [], isTruncated: false }
    : await ctx.objects.listMultipartUploads(ctx.bucket, {
      prefix: p.prefix,
      delimiter: p.delimiter,
      keyMarker,
      uploadIdMarker,
      maxUploads,
    });
  const e = (s: string) => encodeForListing(s, p.urlEncode);
  const w = new XmlWriter().open("ListMultipartUploadsResult", { xmlns: S3_XMLNS });
  w.leaf("Bucket", ctx.bucket).leaf("KeyMarker", e(keyMarker)).leaf(
    "UploadIdMarker",
    uploadIdMarker,
  );
  if ("nextKeyMarker" in res && res.nextKeyMarker !== undefined) {
    w.leaf("NextKeyMarker", e(res.nextKeyMarker));
  }
  if ("nextUploadIdMarker" in res && res.nextUploadIdMarker !== undefined) {
    w.leaf("NextUploadIdMarker", res.nextUploadIdMarker);
  }
  if (p.delimiter !== "") w.leaf("Delimiter", e(p.delimiter));
  w.leaf("Prefix", e(p.prefix)).leaf("MaxUploads", maxUploads).leaf("IsTruncated", res.isTruncated);
  if (p.urlEncode) w.leaf("EncodingType", "url");
  for (const u of res.uploads) {
    w.open("Upload").leaf("Key", e(u.key)).leaf("UploadId", u.uploadId);
    writeOwner(w, "Initiator");
    writeOwner(w);
    w.leaf("StorageClass", u.storageClass).leaf("Initiated", isoDate(u.initiated));
    if (u.checksumAlgorithm !== undefined) {
      w.leaf("ChecksumAlgorithm", u.checksumAlgorithm).leaf("ChecksumType", u.checksumType);
    }
    w.close();
  }
  for (const prefix of res.prefixes) w.open("CommonPrefixes").leaf("Prefix", e(prefix)).close();
  w.close();
  return xmlResponse(w);
}
