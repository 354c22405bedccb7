import { boundaryOf, parseMultipartForm, verifyPostPolicy } from "../../auth/mod.ts";
import { OBJECT_TAGS_MAX, PUT_OBJECT_SIZE_BYTES_MAX } from "../../config/limits.ts";
import type { ObjectMetadata, PutObjectOptions } from "../../object/types.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { guardBody } from "../_body.ts";
import { checkObjectKey } from "../_names.ts";
import { emptyResponse, quoteEtag, xmlResponse } from "../_respond.ts";
import { XmlWriter } from "../xml.ts";
import { parseTaggingXml } from "./_tagging.ts";

import { newEncryption, objectTransform, requestedEncryption, setSseHeaders } from "../_sse.ts";
const STANDARD_FIELDS: Array<[string, keyof Omit<ObjectMetadata, "user" | "internal">]> = [
  ["content-type", "contentType"],
  ["content-encoding", "contentEncoding"],
  ["content-disposition", "contentDisposition"],
  ["content-language", "contentLanguage"],
  ["cache-control", "cacheControl"],
  ["expires", "expires"],
];

/**
 * PostObject: a browser form upload (multipart/form-data). The text fields come first and are
 * read with a bound; the POST policy is verified (signature, expiration, every condition) before
 * a byte of the file is stored; the file streams into the object layer, held to the policy's
 * content-length-range as it flows. Answers 204 by default, 200/201 per success_action_status,
 * or a 303 to success_action_redirect.
 */
export async function postObject(ctx: RequestContext): Promise<Response> {
  const boundary = boundaryOf(ctx.headers.get("content-type"));
  if (boundary === undefined) {
    throw new S3Error("PreconditionFailed", {
      message: "Bucket POST must be of the enclosure-type multipart/form-data",
      extra: { Condition: "Bucket POST must be of the enclosure-type multipart/form-data" },
    });
  }
  await ctx.objects.getBucketInfo(ctx.bucket);
  const length = Number(ctx.headers.get("content-length") ?? "-1");
  const raw = guardBody(
    ctx.request.body ?? new ReadableStream({ start: (c) => c.close() }),
    Number.isSafeInteger(length) ? length : -1,
  );
  const form = await parseMultipartForm(raw, boundary);
  const policy = await verifyPostPolicy(form.fields, {
    region: ctx.region,
    now: ctx.options.now?.() ?? new Date(),
    lookup: (ak) => ctx.options.credentials.lookup(ak),
    bucket: ctx.bucket,
    filename: form.file.filename,
  });
  if (policy.kind === "anonymous") {
    await form.file.stream.cancel().catch(() => {});
    throw new S3Error("AccessDenied");
  }
  const key = policy.key;
  if (key === "") {
    throw new S3Error("InvalidArgument", {
      message: "User key must have a length greater than 0.",
      extra: { ArgumentName: "key" },
    });
  }
  checkObjectKey(key);
  const metadata: ObjectMetadata = { user: {} };
  for (const [field, name] of STANDARD_FIELDS) {
    const v = form.fields.get(field) ??
      (field === "content-type" ? form.file.contentType : undefined);
    if (v !== undefined) metadata[name] = v;
  }
  for (const [name, value] of form.fields) {
    if (name.startsWith("x-amz-meta-")) metadata.user[name.slice("x-amz-meta-".length)] = value;
  }
  const opts: PutObjectOptions = { size: -1, metadata };
  const tagging = form.fields.get("tagging");
  if (tagging !== undefined) opts.tags = await parseTaggingXml(tagging, OBJECT_TAGS_MAX);
  const storageClass = form.fields.get("x-amz-storage-class");
  if (storageClass === "REDUCED_REDUNDANCY" || storageClass === "STANDARD") {
    opts.storageClass = storageClass;
  } else if (storageClass !== undefined) {
    throw new S3Error("InvalidStorageClass");
  }
  const range = policy.contentLengthRange ?? { min: 0, max: PUT_OBJECT_SIZE_BYTES_MAX };
  opts.verify = (digest) => {
    if (digest.size < range.min) {
      throw new S3Error("EntityTooSmall", {
        extra: { ProposedSize: String(digest.size), MinSizeAllowed: String(range.min) },
      });
    }
  };
  // SSE from the form's x-amz-server-side-encryption* fields, or the bucket's default.
  const sseFields = new Headers(
    [...form.fields].filter(([name]) => name.startsWith("x-amz-server-side-encryption")),
  );
  const encryption = await requestedEncryption(ctx, { headers: sseFields });
  let sse;
  if (encryption !== undefined) {
    const created = await newEncryption(ctx, encryption, { bucket: ctx.bucket, key });
    sse = created.sse;
    opts.transform = objectTransform(sse, created.dataKey, created.internal, -1);
    metadata.internal = created.internal;
    created.dataKey.fill(0);
  }
  const info = await ctx.objects.putObject(
    ctx.bucket,
    key,
    capStream(form.file.stream, range.max),
    opts,
  );

  const location = `${ctx.url.protocol}//${ctx.headers.get("host") ?? ctx.url.host}/${ctx.bucket}/${
    key.split("/").map(encodeURIComponent).join("/")
  }`;
  const sseHeaders = new Headers();
  setSseHeaders(sseHeaders, sse, encryption?.mode === "SSE-C" ? encryption.customerKey : undefined);
  const headers = { etag: quoteEtag(info.etag), location, ...Object.fromEntries(sseHeaders) };
  const redirect = form.fields.get("success_action_redirect") ?? form.fields.get("redirect");
  if (redirect !== undefined && redirect !== "") {
    let target: URL | undefined;
    try {
      target = new URL(redirect);
    } catch { /* AWS ignores a redirect it cannot parse and answers as without one */ }
    if (target !== undefined) {
      target.searchParams.set("bucket", ctx.bucket);
      target.searchParams.set("key", key);
      target.searchParams.set("etag", quoteEtag(info.etag));
      return emptyResponse(303, { ...headers, location: target.toString() });
    }
  }
  const status = form.fields.get("success_action_status");
  if (status === "201") {
    const w = new XmlWriter().open("PostResponse");
    w.leaf("Location", location).leaf("Bucket", ctx.bucket).leaf("Key", key);
    w.leaf("ETag", quoteEtag(info.etag)).close();
    return xmlResponse(w, { status: 201, headers });
  }
  return emptyResponse(status === "200" ? 200 : 204, headers);
}

/** Errors with EntityTooLarge as soon as more than `max` bytes have flowed. */
function capStream(stream: ReadableStream<Uint8Array>, max: number): ReadableStream<Uint8Array> {
  let seen = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > max) {
          controller.error(
            new S3Error("EntityTooLarge", {
              extra: { ProposedSize: String(seen), MaxSizeAllowed: String(max) },
            }),
          );
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
}
