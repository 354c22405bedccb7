import type { RequestContext } from "../context.ts";
import { encodeForListing, xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";
import {
  decodeContinuationToken,
  encodeContinuationToken,
  listingParams,
  listPage,
  writeCommonPrefixes,
  writeObjectEntry,
} from "./_listing.ts";

/** ListObjectsV2: continuation-token wins over start-after, as AWS. */
export async function listObjectsV2(ctx: RequestContext): Promise<Response> {
  const p = listingParams(ctx);
  const token = ctx.query.get("continuation-token");
  const startAfter = ctx.query.get("start-after") ?? "";
  const after = token !== null ? decodeContinuationToken(token) : startAfter;
  const page = await listPage(ctx, p, after);
  const e = (s: string) => encodeForListing(s, p.urlEncode);
  const w = new XmlWriter().open("ListBucketResult", { xmlns: S3_XMLNS });
  w.leaf("Name", ctx.bucket).leaf("Prefix", e(p.prefix));
  if (token !== null) w.leaf("ContinuationToken", token);
  if (page.isTruncated && page.nextAfter !== undefined) {
    w.leaf("NextContinuationToken", encodeContinuationToken(page.nextAfter));
  }
  if (startAfter !== "") w.leaf("StartAfter", e(startAfter));
  w.leaf("KeyCount", page.objects.length + page.prefixes.length).leaf("MaxKeys", p.maxKeys);
  if (p.delimiter !== "") w.leaf("Delimiter", e(p.delimiter));
  w.leaf("IsTruncated", page.isTruncated);
  if (p.urlEncode) w.leaf("EncodingType", "url");
  const owner = ctx.query.get("fetch-owner") === "true";
  for (const o of page.objects) writeObjectEntry(w, o, { urlEncode: p.urlEncode, owner });
  writeCommonPrefixes(w, page.prefixes, p.urlEncode);
  w.close();
  return xmlResponse(w);
}
