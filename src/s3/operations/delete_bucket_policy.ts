import type { RequestContext } from "../context.ts";
import { emptyResponse } from "../_respond.ts";

/** DeleteBucketPolicy: 204 whether or not there was one, as AWS. */
export async function deleteBucketPolicy(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getBucketInfo(ctx.bucket);
  await ctx.objects.putBucketConfig(ctx.bucket, "policy", undefined);
  return emptyResponse(204);
}
