import type { RequestContext } from "../context.ts";
import { encodeForListing, xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";
import { listingParams, listPage, writeCommonPrefixes, writeObjectEntry } from "./_listing.ts";

/** ListObjects (version 1): NextMarker only with a delimiter, as AWS. */
export async function listObjects(ctx: RequestContext): Promise<Response> {
  const p = listingParams(ctx);
  const marker = ctx.query.get("marker") ?? "";
  const page = await listPage(ctx, p, marker);
  const e = (s: string) => encodeForListing(s, p.urlEncode);
  const w = new XmlWriter().open("ListBucketResult", { xmlns: S3_XMLNS });
  w.leaf("Name", ctx.bucket).leaf("Prefix", e(p.prefix)).leaf("Marker", e(marker));
  if (page.isTruncated && p.delimiter !== "" && page.nextAfter !== undefined) {
    w.leaf("NextMarker", e(page.nextAfter));
  }
  w.leaf("MaxKeys", p.maxKeys);
  if (p.delimiter !== "") w.leaf("Delimiter", e(p.delimiter));
  w.leaf("IsTruncated", page.isTruncated);
  if (p.urlEncode) w.leaf("EncodingType", "url");
  for (const o of page.objects) writeObjectEntry(w, o, { urlEncode: p.urlEncode, owner: true });
  writeCommonPrefixes(w, page.prefixes, p.urlEncode);
  w.close();
  return xmlResponse(w);
}
