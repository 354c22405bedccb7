import { DELETE_OBJECTS_KEYS_MAX, DELETE_OBJECTS_PARALLEL_MAX } from "../../config/limits.ts";
import { logger } from "../../util/logger.ts";
import type { RequestContext } from "../context.ts";
import { S3Error, toS3Error } from "../errors.ts";
import { checkObjectKey } from "../_names.ts";
import { xmlResponse } from "../_respond.ts";
import { readXmlBody } from "../_xml_body.ts";
import { children, childText, parseXml, S3_XMLNS, XmlWriter } from "../xml.ts";

interface Outcome {
  key: string;
  versionId?: string;
  error?: S3Error;
}

/**
 * DeleteObjects: up to 1,000 keys (more is MalformedXML, as AWS); each key succeeds or fails on
 * its own. Quiet mode reports only the failures.
 *
 * Unlike AWS: Content-MD5 (or an x-amz-checksum-* header) is checked when sent but not required,
 * as MinIO does, so that clients that omit it still work.
 */
export async function deleteObjects(ctx: RequestContext): Promise<Response> {
  await ctx.objects.getBucketInfo(ctx.bucket);
  const root = await parseXml(await readXmlBody(ctx), "Delete", ["Object"]);
  const quiet = childText(root, "Quiet")?.trim().toLowerCase() === "true";
  const objects = children(root, "Object");
  if (objects.length === 0 || objects.length > DELETE_OBJECTS_KEYS_MAX) {
    throw new S3Error("MalformedXML");
  }
  const requests = objects.map((o) => {
    const key = childText(o, "Key");
    if (key === undefined) throw new S3Error("MalformedXML");
    const versionId = childText(o, "VersionId");
    return versionId === undefined ? { key } : { key, versionId };
  });
  const outcomes: Outcome[] = new Array(requests.length);
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const i = next++;
      const req = requests[i]!;
      const outcome: Outcome = { ...req };
      try {
        if (req.key === "") throw new S3Error("InvalidArgument", { message: "Invalid key" });
        checkObjectKey(req.key);
        if (req.versionId !== undefined && req.versionId !== "null") {
          throw new S3Error("NoSuchVersion");
        }
        await ctx.objects.deleteObject(ctx.bucket, req.key);
      } catch (e) {
        const err = toS3Error(e);
        if (err === undefined) {
          logger.error("DeleteObjects: one key failed unexpectedly", {
            requestId: ctx.requestId,
            key: req.key,
            error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
          });
        }
        outcome.error = err ?? new S3Error("InternalError");
      }
      outcomes[i] = outcome;
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(DELETE_OBJECTS_PARALLEL_MAX, requests.length) }, worker),
  );
  const w = new XmlWriter().open("DeleteResult", { xmlns: S3_XMLNS });
  for (const o of outcomes) {
    if (o.error !== undefined) {
      w.open("Error").leaf("Key", o.key).leaf("VersionId", o.versionId);
      w.leaf("Code", o.error.code).leaf("Message", o.error.message).close();
    } else if (!quiet) {
      w.open("Deleted").leaf("Key", o.key).leaf("VersionId", o.versionId).close();
    }
  }
  w.close();
  return xmlResponse(w);
}
