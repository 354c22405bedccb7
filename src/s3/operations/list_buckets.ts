import type { RequestContext } from "../context.ts";
import { isoDate, writeOwner, xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";

/** ListBuckets: every bucket, sorted by name. */
export async function listBuckets(ctx: RequestContext): Promise<Response> {
  const buckets = (await ctx.objects.listBuckets()).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
  const w = new XmlWriter().open("ListAllMyBucketsResult", { xmlns: S3_XMLNS });
  writeOwner(w);
  w.open("Buckets");
  for (const b of buckets) {
    w.open("Bucket").leaf("Name", b.name).leaf("CreationDate", isoDate(b.created));
    w.leaf("BucketRegion", ctx.region).close();
  }
  w.close().close();
  return xmlResponse(w);
}
