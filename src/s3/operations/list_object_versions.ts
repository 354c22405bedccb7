import type { RequestContext } from "../context.ts";
import { encodeForListing, xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";
import { listingParams, listPage, writeCommonPrefixes, writeObjectEntry } from "./_listing.ts";

/**
 * ListObjectVersions: until versioning exists every object is its one version, `null`, latest.
 * Clients and cleanup tools (aws s3 rb --force, rclone) call it.
 */
export async function listObjectVersions(ctx: RequestContext): Promise<Response> {
  const p = listingParams(ctx);
  const keyMarker = ctx.query.get("key-marker") ?? "";
  const versionMarker = ctx.query.get("version-id-marker") ?? "";
  const page = await listPage(ctx, p, keyMarker);
  const e = (s: string) => encodeForListing(s, p.urlEncode);
  const w = new XmlWriter().open("ListVersionsResult", { xmlns: S3_XMLNS });
  w.leaf("Name", ctx.bucket).leaf("Prefix", e(p.prefix)).leaf("KeyMarker", e(keyMarker));
  w.leaf("VersionIdMarker", versionMarker);
  if (page.isTruncated && page.nextAfter !== undefined) {
    w.leaf("NextKeyMarker", e(page.nextAfter)).leaf("NextVersionIdMarker", "null");
  }
  w.leaf("MaxKeys", p.maxKeys);
  if (p.delimiter !== "") w.leaf("Delimiter", e(p.delimiter));
  w.leaf("IsTruncated", page.isTruncated);
  if (p.urlEncode) w.leaf("EncodingType", "url");
  for (const o of page.objects) {
    writeObjectEntry(w, o, {
      urlEncode: p.urlEncode,
      owner: true,
      element: "Version",
      version: true,
    });
  }
  writeCommonPrefixes(w, page.prefixes, p.urlEncode);
  w.close();
  return xmlResponse(w);
}
