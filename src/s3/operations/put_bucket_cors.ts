import type { RequestContext } from "../context.ts";
import { parseCorsXml } from "../_cors.ts";
import { emptyResponse } from "../_respond.ts";
import { readXmlBody } from "../_xml_body.ts";

/** PutBucketCors: validated, then stored as JSON rules. */
export async function putBucketCors(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getBucketInfo(ctx.bucket);
  const rules = await parseCorsXml(await readXmlBody(ctx));
  await ctx.objects.putBucketConfig(ctx.bucket, "cors", JSON.stringify(rules));
  return emptyResponse(200);
}
