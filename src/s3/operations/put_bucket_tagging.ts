import { BUCKET_TAGS_MAX } from "../../config/limits.ts";
import type { RequestContext } from "../context.ts";
import { emptyResponse } from "../_respond.ts";
import { readXmlBody } from "../_xml_body.ts";
import { parseTaggingXml } from "./_tagging.ts";

export async function putBucketTagging(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getBucketInfo(ctx.bucket);
  const tags = await parseTaggingXml(await readXmlBody(ctx), BUCKET_TAGS_MAX);
  await ctx.objects.putBucketConfig(
    ctx.bucket,
    "tagging",
    tags.length === 0 ? undefined : JSON.stringify(tags),
  );
  // 200 as MinIO answers (AWS's example shows 204): minio-js setBucketTagging accepts only 200,
  // and the AWS SDKs accept any 2xx.
  return emptyResponse(200);
}
