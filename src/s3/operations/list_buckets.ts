import { LIST_BUCKETS_PAGE_MAX } from "../../config/limits.ts";
import type { RequestContext } from "../context.ts";
import { isoDate, writeOwner, xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";

/**
 * ListBuckets: every bucket, sorted by name; the optional prefix, max-buckets and
 * continuation-token (the last name returned) page through them as AWS does.
 */
export async function listBuckets(ctx: RequestContext): Promise<Response> {
  const prefix = ctx.query.get("prefix") ?? "";
  const after = ctx.query.get("continuation-token") ?? "";
  const max = ctx.intParam("max-buckets", LIST_BUCKETS_PAGE_MAX, 1, LIST_BUCKETS_PAGE_MAX);
  const all = (await ctx.objects.listBuckets())
    .filter((b) => b.name.startsWith(prefix) && b.name > after)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const page = all.slice(0, max);
  const w = new XmlWriter().open("ListAllMyBucketsResult", { xmlns: S3_XMLNS });
  writeOwner(w);
  w.open("Buckets");
  for (const b of page) {
    w.open("Bucket").leaf("Name", b.name).leaf("CreationDate", isoDate(b.created));
    w.leaf("BucketRegion", ctx.region).close();
  }
  w.close();
  if (all.length > page.length) w.leaf("ContinuationToken", page.at(-1)?.name);
  if (prefix !== "") w.leaf("Prefix", prefix);
  w.close();
  return xmlResponse(w);
}
