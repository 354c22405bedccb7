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
import {
  newEncryption,
  objectTransform,
  plaintextReader,
  requestedEncryption,
  setSseHeaders,
  withoutEncryption,
} from "../_sse.ts";

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
  // The copy is encrypted as the request (or the destination bucket's default) says, never
  // because the source was (as AWS); an encrypted source is decrypted as it streams.
  const encryption = await requestedEncryption(ctx);
  const explicitEncryption = await requestedEncryption(ctx, { useBucketDefault: false });
  const reader = await openCopySource(ctx);
  let stream: ReadableStream<Uint8Array> | undefined;
  let streamed = false;
  try {
    const plain = await plaintextReader(ctx, reader, { ...reader.source, copySource: true });
    const src = plain.info;
    checkCopySourceConditions(ctx.headers, src);
    const same = reader.source.bucket === ctx.bucket && reader.source.key === ctx.key;
    if (
      same && metadataDirective === "COPY" && taggingDirective === "COPY" &&
      (storageClass === undefined || storageClass === src.storageClass) &&
      algorithm === undefined && explicitEncryption === undefined
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
      metadata: metadataDirective === "REPLACE"
        ? metadataFromHeaders(ctx.headers)
        : withoutEncryption(src.metadata),
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
    let sse;
    if (encryption !== undefined) {
      const created = await newEncryption(ctx, encryption, { bucket: ctx.bucket, key: ctx.key });
      sse = created.sse;
      opts.transform = objectTransform(sse, created.dataKey, created.internal, src.size);
      opts.metadata.internal = created.internal;
      created.dataKey.fill(0);
    }
    streamed = src.size > 0;
    stream = streamed ? plain.stream(0, src.size) : emptyStream();
    const info = await ctx.objects.putObject(ctx.bucket, ctx.key, stream, opts);
    const headers = new Headers();
    setSseHeaders(headers, sse, encryption?.mode === "SSE-C" ? encryption.customerKey : undefined);
    if (plain.sse?.record.mode === "SSE-C" && plain.customerKey !== undefined) {
      headers.set(
        "x-amz-copy-source-server-side-encryption-customer-algorithm",
        "AES256",
      );
      headers.set(
        "x-amz-copy-source-server-side-encryption-customer-key-md5",
        plain.customerKey.keyMd5,
      );
    }
    const w = new XmlWriter().open("CopyObjectResult", { xmlns: S3_XMLNS });
    w.leaf("LastModified", isoDate(info.lastModified)).leaf("ETag", quoteEtag(info.etag));
    writeChecksumElements(w, info.checksums, "FULL_OBJECT");
    w.close();
    return xmlResponse(w, { headers });
  } catch (e) {
    if (stream !== undefined) await stream.cancel().catch(() => {});
    throw e;
  } finally {
    if (!streamed) reader.close();
  }
}
