import type { RequestContext } from "../context.ts";
import { emptyResponse } from "../_respond.ts";
import { uploadIdParam } from "./_part.ts";

export async function abortMultipartUpload(ctx: RequestContext): Promise<Response> {
  await ctx.objects.abortMultipartUpload(ctx.bucket, ctx.key, uploadIdParam(ctx));
  return emptyResponse(204);
}
