import type { RequestContext } from "../context.ts";
import { emptyResponse } from "../_respond.ts";
import { checkVersionId } from "./_read.ts";

/** DeleteObject: 204 whether or not the key existed, as S3. */
export async function deleteObject(ctx: RequestContext): Promise<Response> {
  checkVersionId(ctx);
  await ctx.objects.deleteObject(ctx.bucket, ctx.key);
  return emptyResponse(204);
}
