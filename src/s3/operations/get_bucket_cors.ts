import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { type CorsRule, writeCorsXml } from "../_cors.ts";
import { xmlResponse } from "../_respond.ts";
import { XmlWriter } from "../xml.ts";

export async function getBucketCors(ctx: RequestContext): Promise<Response> {
  const doc = await ctx.objects.getBucketConfig(ctx.bucket, "cors");
  if (doc === undefined) throw new S3Error("NoSuchCORSConfiguration", { bucket: ctx.bucket });
  const w = new XmlWriter();
  writeCorsXml(w, JSON.parse(doc) as CorsRule[]);
  return xmlResponse(w);
}
