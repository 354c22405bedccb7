import type { RequestContext } from "../context.ts";
import { emptyResponse } from "../_respond.ts";

/** DeleteBucket: BucketNotEmpty while it holds objects or uploads. */
export async function deleteBucket(ctx: RequestContext): Promise<Response> {
  await ctx.objects.deleteBucket(ctx.bucket);
  return emptyResponse(204);
}
