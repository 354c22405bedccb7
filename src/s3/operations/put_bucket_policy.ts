import { BUCKET_POLICY_BYTES_MAX } from "../../config/limits.ts";
import { parsePolicy } from "../../iam/mod.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { emptyResponse } from "../_respond.ts";
import { readBoundedText } from "../xml.ts";

/**
 * PutBucketPolicy: the JSON document is validated as AWS does (MalformedPolicy with its wording),
 * capped at BUCKET_POLICY_BYTES_MAX, and stored as sent. 204 as AWS.
 */
export async function putBucketPolicy(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getBucketInfo(ctx.bucket);
  let text: string;
  try {
    text = await readBoundedText(ctx.body().stream, BUCKET_POLICY_BYTES_MAX);
  } catch (e) {
    if (e instanceof S3Error && e.code === "MalformedXML") {
      throw new S3Error("MalformedPolicy", {
        message: "Policy exceeds the maximum allowed document size.",
      });
    }
    throw e;
  }
  if (text.trim() === "") throw new S3Error("MalformedPolicy", { message: "Policy is empty." });
  parsePolicy(text, { kind: "bucket", bucket: ctx.bucket });
  await ctx.objects.putBucketConfig(ctx.bucket, "policy", text);
  return emptyResponse(204);
}
