import type { RequestContext } from "../context.ts";
import { xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";

/** GetBucketVersioning: an empty configuration means versioning was never enabled. */
export async function getBucketVersioning(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getBucketInfo(ctx.bucket);
  return xmlResponse(new XmlWriter().empty("VersioningConfiguration", { xmlns: S3_XMLNS }));
}
