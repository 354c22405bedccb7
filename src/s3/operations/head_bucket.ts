import type { RequestContext } from "../context.ts";
import { emptyResponse } from "../_respond.ts";

export async function headBucket(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getBucketInfo(ctx.bucket);
  return emptyResponse(200, {
    "x-amz-bucket-region": ctx.region,
    "x-amz-access-point-alias": "false",
  });
}
