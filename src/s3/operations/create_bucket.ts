import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { emptyResponse } from "../_respond.ts";
import { childText, parseXml, readBoundedText } from "../xml.ts";

/**
 * CreateBucket. The optional body names a LocationConstraint, which must be this server's region
 * (us-east-1 may also be named explicitly, as MinIO accepts). Creating a bucket that exists is
 * BucketAlreadyOwnedByYou: there is one owner. Unlike AWS: us-east-1 answers 200 there for legacy
 * reasons; Shale answers 409 in every region, as MinIO (tests/e2e_hostile_test.ts).
 */
export async function createBucket(ctx: RequestContext): Promise<Response> {
  const text = await readBoundedText(ctx.body().stream);
  if (text.trim() !== "") {
    const root = await parseXml(text, "CreateBucketConfiguration", []);
    const location = childText(root, "LocationConstraint")?.trim() ?? "";
    if (location !== "" && location !== ctx.region) {
      throw new S3Error("IllegalLocationConstraintException", {
        message:
          `The ${location} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      });
    }
  }
  if (ctx.headers.get("x-amz-bucket-object-lock-enabled")?.toLowerCase() === "true") {
    throw new S3Error("NotImplemented", { message: "Object lock is not implemented yet" });
  }
  await ctx.objects.makeBucket(ctx.bucket);
  return emptyResponse(200, { location: `/${ctx.bucket}` });
}
