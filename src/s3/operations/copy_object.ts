import { PUT_OBJECT_SIZE_BYTES_MAX } from "../../config/limits.ts";
import type { PutObjectOptions } from "../../object/types.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import {
  CHECKSUM_ALGORITHMS,
  parseChecksumAlgorithm,
  writeChecksumElements,
} from "../_checksums.ts";
import { checkCopySourceConditions, writeConditionsFromHeaders } from "../_conditions.ts";
import { openCopySource } from "../_copy_source.ts";
import { metadataFromHeaders, storageClassFromHeaders, tagsFromHeader } from "../_metadata.ts";
import { isoDate, quoteEtag, xmlResponse } from "../_respond.ts";
import { rejectUnsupportedHeaders } from "../_xml_body.ts";
import { S3_XMLNS, XmlWriter } from "../xml.ts";
import { emptyStream } from "../_body.ts";

function directive(ctx: RequestContext, header: string): "COPY" | "REPLACE" {
  const v = ctx.headers.get(header);
  if (v === null || v === "COPY") return "COPY";
  if (v === "REPLACE") return "REPLACE";
  throw new S3Error("InvalidArgument", {
    message: `Unknown ${header === "x-amz-metadata-directive" ? "metadata" : "tagging"} directive.`,
    extra: { ArgumentName: header, ArgumentValue: v },
  });
}

/**
 * CopyObject: streams the source version into a new object (across buckets too). Metadata and
 * tags come from the source (COPY) or the request (REPLACE); x-amz-copy-source-if-* conditions
 * are checked against the source.
 */
export async function copyObject(ctx: RequestContext): Promise<Response> {
  rejectUnsupportedHeaders(ctx.headers);
  const metadataDirective = directive(ctx, "x-amz-metadata-directive");
  const taggingDirective = directive(ctx, "x-amz-tagging-directive");
  const storageClass = storageClassFromHeaders(ctx.headers);
  const algorithm = parseChecksumAlgorithm(ctx.headers.get("x-amz-checksum-algorithm"));
  const reader = await openCopySource(ctx);
  let stream: ReadableStream<Uint8Array> | undefined;
  let streamed = false;
  try {
    const src = reader.info;
    checkCopySourceConditions(ctx.headers, src);
    const same = reader.source.bucket === ctx.bucket && reader.source.key === ctx.key;
    if (
      same && metadataDirective === "COPY" && taggingDirective === "COPY" &&
      (storageClass === undefined || storageClass === src.storageClass) && algorithm === undefined
    ) {
      throw new S3Error("InvalidRequest", {
        message:
          "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      });
    }
    if (src.size > PUT_OBJECT_SIZE_BYTES_MAX) {
      throw new S3Error("InvalidRequest", {
        message:
          "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120",
      });
    }
    const opts: PutObjectOptions = {
      size: src.size,
      metadata: metadataDirective === "REPLACE" ? metadataFromHeaders(ctx.headers) : src.metadata,
      storageClass: storageClass ?? src.storageClass,
      tags: taggingDirective === "REPLACE"
        ? tagsFromHeader(ctx.headers.get("x-amz-tagging")) ?? []
        : src.tags,
      checksumAlgorithms: algorithm !== undefined
        ? [algorithm]
        : CHECKSUM_ALGORITHMS.filter((a) => src.checksums[a] !== undefined),
    };
    const conditions = writeConditionsFromHeaders(ctx.headers);
    if (conditions !== undefined) opts.conditions = conditions;
    streamed = src.size > 0;
    stream = streamed ? reader.stream(0, src.size) : emptyStream();
    const info = await ctx.objects.putObject(ctx.bucket, ctx.key, stream, opts);
    const w = new XmlWriter().open("CopyObjectResult", { xmlns: S3_XMLNS });
    w.leaf("LastModified", isoDate(info.lastModified)).leaf("ETag", quoteEtag(info.etag));
    writeChecksumElements(w, info.checksums, "FULL_OBJECT");
    w.close();
    return xmlResponse(w);
  } catch (e) {
    if (stream !== undefined) await stream.cancel().catch(() => {});
    throw e;
  } finally {
    if (!streamed) reader.close();
  }
}
