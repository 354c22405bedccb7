import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { emptyResponse } from "../_respond.ts";
import type { BucketEncryption } from "../_sse.ts";
import { readXmlBody } from "../_xml_body.ts";
import { children, childText, parseXml } from "../xml.ts";
import { normalizeKeyId } from "../../crypto/mod.ts";

/**
 * PutBucketEncryption: the bucket's default encryption, applied to writes that ask for none.
 * One rule, SSEAlgorithm AES256 or aws:kms (with an optional KMSMasterKeyID) and an optional
 * BucketKeyEnabled; anything else is MalformedXML, as MinIO. Stored as JSON in the bucket's
 * "encryption" config.
 */
export async function putBucketEncryption(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getBucketInfo(ctx.bucket);
  const root = await parseXml(await readXmlBody(ctx), "ServerSideEncryptionConfiguration", [
    "Rule",
  ]);
  const rules = children(root, "Rule");
  if (rules.length !== 1) throw new S3Error("MalformedXML");
  const apply = children(rules[0]!, "ApplyServerSideEncryptionByDefault")[0];
  if (apply === undefined) throw new S3Error("MalformedXML");
  const algorithm = childText(apply, "SSEAlgorithm")?.trim();
  const keyId = childText(apply, "KMSMasterKeyID")?.trim();
  let config: BucketEncryption;
  if (algorithm === "AES256" && (keyId === undefined || keyId === "")) {
    config = { algorithm };
  } else if (algorithm === "aws:kms") {
    config = keyId === undefined || keyId === ""
      ? { algorithm }
      : { algorithm, keyId: normalizeKeyId(keyId) };
  } else {
    throw new S3Error("MalformedXML");
  }
  // Rule/BucketKeyEnabled: stored and returned; SSE-KMS writes inherit it (_sse.ts). It changes
  // nothing cryptographically: every object has its own data key.
  const bucketKey = childText(rules[0]!, "BucketKeyEnabled")?.trim();
  if (bucketKey !== undefined) {
    if (bucketKey !== "true" && bucketKey !== "false") throw new S3Error("MalformedXML");
    config.bucketKeyEnabled = bucketKey === "true";
  }
  const kms = ctx.options.sse?.kms;
  if (kms === undefined) {
    throw new S3Error("NotImplemented", {
      message: "Server side encryption specified but KMS is not configured",
    });
  }
  if (config.keyId !== undefined && !kms.hasKey(config.keyId)) {
    throw new S3Error("KMS.NotFoundException", { message: `Key '${keyId}' does not exist` });
  }
  await ctx.objects.putBucketConfig(ctx.bucket, "encryption", JSON.stringify(config));
  return emptyResponse(200);
}
