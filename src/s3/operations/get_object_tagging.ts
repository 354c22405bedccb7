import type { RequestContext } from "../context.ts";
import { xmlResponse } from "../_respond.ts";
import { checkVersionId } from "./_read.ts";
import { taggingXml } from "./_tagging.ts";

export async function getObjectTagging(ctx: RequestContext): Promise<Response> {
  checkVersionId(ctx);
  const info = await ctx.objects.getObjectInfo(ctx.bucket, ctx.key);
  return xmlResponse(taggingXml(info.tags));
}
