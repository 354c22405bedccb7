import type { RequestContext } from "../context.ts";
import { xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";

/** GetBucketLocation: empty for us-east-1, as AWS answers. */
export async function getBucketLocation(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getBucketInfo(ctx.bucket);
  const w = new XmlWriter();
  if (ctx.region === "us-east-1") w.empty("LocationConstraint", { xmlns: S3_XMLNS });
  else w.open("LocationConstraint", { xmlns: S3_XMLNS }).text(ctx.region).close();
  return xmlResponse(w);
}
