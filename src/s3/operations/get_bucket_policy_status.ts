import { isPublicPolicy, parsePolicy } from "../../iam/mod.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { xmlResponse } from "../_respond.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";

/** GetBucketPolicyStatus: IsPublic by AWS's definition; NoSuchBucketPolicy without a policy. */
export async function getBucketPolicyStatus(ctx: RequestContext): Promise<Response> {
  const doc = await ctx.objects.getBucketConfig(ctx.bucket, "policy");
  if (doc === undefined) throw new S3Error("NoSuchBucketPolicy", { bucket: ctx.bucket });
  const isPublic = isPublicPolicy(parsePolicy(doc, { kind: "bucket", bucket: ctx.bucket }));
  const w = new XmlWriter().open("PolicyStatus", { xmlns: S3_XMLNS }).leaf("IsPublic", isPublic)
    .close();
  return xmlResponse(w);
}
