import { OBJECT_TAGS_MAX } from "../../config/limits.ts";
import type { RequestContext } from "../context.ts";
import { emptyResponse } from "../_respond.ts";
import { readXmlBody } from "../_xml_body.ts";
import { checkVersionId } from "./_read.ts";
import { parseTaggingXml } from "./_tagging.ts";

export async function putObjectTagging(ctx: RequestContext): Promise<Response> {
  checkVersionId(ctx);
  const tags = await parseTaggingXml(await readXmlBody(ctx), OBJECT_TAGS_MAX);
  await ctx.objects.putObjectTags(ctx.bucket, ctx.key, tags);
  return emptyResponse(200);
}
