import { LIST_PARTS_MAX } from "../../config/limits.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { writeChecksumElements } from "../_checksums.ts";
import { httpDate, xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";
import { checkVersionId } from "./_read.ts";
import { checkReadKey, plainInfo } from "../_sse.ts";

const ATTRIBUTES = new Set(["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]);

/** GetObjectAttributes: the attributes named in x-amz-object-attributes, parts paginated. */
export async function getObjectAttributes(ctx: RequestContext): Promise<Response> {
  checkVersionId(ctx);
  const wanted = new Set(
    (ctx.headers.get("x-amz-object-attributes") ?? "").split(",").map((s) => s.trim()).filter((
      s,
    ) => s !== ""),
  );
  if (wanted.size === 0) {
    throw new S3Error("InvalidArgument", {
      message:
        "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty",
    });
  }
  for (const a of wanted) {
    if (!ATTRIBUTES.has(a)) {
      throw new S3Error("InvalidArgument", { message: "Invalid attribute name specified." });
    }
  }
  const maxParts = intHeader(ctx.headers.get("x-amz-max-parts"), LIST_PARTS_MAX);
  const marker = intHeader(ctx.headers.get("x-amz-part-number-marker"), 0);
  // Plaintext sizes for an encrypted object; an SSE-C object needs its key, as for HEAD.
  const stored = await ctx.objects.getObjectInfo(ctx.bucket, ctx.key);
  await checkReadKey(ctx, stored);
  const info = plainInfo(stored);
  const w = new XmlWriter().open("GetObjectAttributesResponse", { xmlns: S3_XMLNS });
  if (wanted.has("ETag")) w.leaf("ETag", info.etag);
  if (wanted.has("Checksum") && Object.keys(info.checksums).length > 0) {
    w.open("Checksum");
    writeChecksumElements(w, info.checksums, info.checksumType ?? "FULL_OBJECT");
    w.close();
  }
  if (wanted.has("ObjectParts") && info.parts.length > 0) {
    const after = info.parts.filter((p) => p.partNumber > marker);
    const page = after.slice(0, Math.min(maxParts, LIST_PARTS_MAX));
    const truncated = after.length > page.length;
    // AWS names the element PartsCount (the SDKs map it to TotalPartsCount).
    w.open("ObjectParts").leaf("PartsCount", info.parts.length);
    w.leaf("PartNumberMarker", marker);
    w.leaf("NextPartNumberMarker", page.at(-1)?.partNumber ?? marker);
    w.leaf("MaxParts", maxParts).leaf("IsTruncated", truncated);
    for (const p of page) {
      w.open("Part").leaf("PartNumber", p.partNumber).leaf("Size", p.size);
      writeChecksumElements(w, p.checksums);
      w.close();
    }
    w.close();
  }
  if (wanted.has("StorageClass")) w.leaf("StorageClass", info.storageClass);
  if (wanted.has("ObjectSize")) w.leaf("ObjectSize", info.size);
  w.close();
  return xmlResponse(w, { headers: { "last-modified": httpDate(info.lastModified) } });
}

function intHeader(v: string | null, fallback: number): number {
  if (v === null) return fallback;
  if (!/^\d+$/.test(v.trim())) {
    throw new S3Error("InvalidArgument", { message: `Invalid value "${v}"` });
  }
  return Number(v.trim());
}
