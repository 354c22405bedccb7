import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { xmlResponse } from "../_respond.ts";
import { taggingXml } from "./_tagging.ts";

/** GetBucketTagging: NoSuchTagSet when the bucket has none. Stored as JSON pairs. */
export async function getBucketTagging(ctx: RequestContext): Promise<Response> {
  const doc = await ctx.objects.getBucketConfig(ctx.bucket, "tagging");
  if (doc === undefined) throw new S3Error("NoSuchTagSet", { bucket: ctx.bucket });
  return xmlResponse(taggingXml(JSON.parse(doc) as Array<[string, string]>));
}
