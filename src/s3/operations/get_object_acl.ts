import type { RequestContext } from "../context.ts";
import { xmlResponse } from "../_respond.ts";
import { cannedAclXml } from "./get_bucket_acl.ts";

export async function getObjectAcl(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getObjectInfo(ctx.bucket, ctx.key);
  return xmlResponse(cannedAclXml());
}
