import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";

/** GetBucketPolicy: the document exactly as it was stored, as JSON. */
export async function getBucketPolicy(ctx: RequestContext): Promise<Response> {
  const doc = await ctx.objects.getBucketConfig(ctx.bucket, "policy");
  if (doc === undefined) throw new S3Error("NoSuchBucketPolicy", { bucket: ctx.bucket });
  return new Response(doc, { status: 200, headers: { "content-type": "application/json" } });
}
