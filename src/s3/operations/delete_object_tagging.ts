import type { RequestContext } from "../context.ts";
import { emptyResponse } from "../_respond.ts";
import { checkVersionId } from "./_read.ts";

export async function deleteObjectTagging(ctx: RequestContext): Promise<Response> {
  checkVersionId(ctx);
  await ctx.objects.putObjectTags(ctx.bucket, ctx.key, []);
  return emptyResponse(204);
}
