import type { RequestContext } from "../context.ts";
import { emptyResponse } from "../_respond.ts";

/** DeleteBucketEncryption: 204 whether or not one was set, as AWS. */
export async function deleteBucketEncryption(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getBucketInfo(ctx.bucket);
  await ctx.objects.putBucketConfig(ctx.bucket, "encryption", undefined);
  return emptyResponse(204);
}
