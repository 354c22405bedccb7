import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { xmlResponse } from "../_respond.ts";
import { bucketEncryptionOf } from "../_sse.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";

/** GetBucketEncryption: 404 ServerSideEncryptionConfigurationNotFoundError when none is set. */
export async function getBucketEncryption(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getBucketInfo(ctx.bucket);
  const config = await bucketEncryptionOf(ctx);
  if (config === undefined) {
    throw new S3Error("ServerSideEncryptionConfigurationNotFoundError", { bucket: ctx.bucket });
  }
  const w = new XmlWriter().open("ServerSideEncryptionConfiguration", { xmlns: S3_XMLNS });
  w.open("Rule").open("ApplyServerSideEncryptionByDefault").leaf("SSEAlgorithm", config.algorithm);
  if (config.keyId !== undefined) w.leaf("KMSMasterKeyID", `arn:aws:kms:${config.keyId}`);
  w.close();
  if (config.bucketKeyEnabled !== undefined) {
    w.leaf("BucketKeyEnabled", String(config.bucketKeyEnabled));
  }
  w.close().close();
  return xmlResponse(w);
}
