import type { RequestContext } from "../context.ts";
import { emptyResponse } from "../_respond.ts";

export async function deleteBucketCors(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getBucketInfo(ctx.bucket);
  await ctx.objects.putBucketConfig(ctx.bucket, "cors", undefined);
  return emptyResponse(204);
}
