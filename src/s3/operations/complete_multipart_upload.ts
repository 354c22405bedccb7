import { PART_NUMBER_MAX } from "../../config/limits.ts";
import type { ChecksumSet, ChecksumType, CompletePart } from "../../object/types.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import {
  CHECKSUM_ALGORITHMS,
  checksumElementName,
  checksumHeaderName,
  writeChecksumElements,
} from "../_checksums.ts";
import { writeConditionsFromHeaders } from "../_conditions.ts";
import { quoteEtag, xmlResponse } from "../_respond.ts";
import { readXmlBody } from "../_xml_body.ts";
import { children, childText, parseXml, S3_XMLNS, XmlWriter } from "../xml.ts";
import { uploadIdParam } from "./_part.ts";
import { openUploadKey } from "./upload_part.ts";
import { customerKeyOf, sealPartList, setSseHeaders, sseOf } from "../_sse.ts";

/**
 * CompleteMultipartUpload: the part list must be non-empty, ascending (InvalidPartOrder), name
 * uploaded parts with their ETags (InvalidPart), and every part but the last must be at least
 * 5 MiB (EntityTooSmall); the object layer checks the last two under the upload's lock.
 *
 * An encrypted upload's part list is MACed under its data key in the completing commit (_sse.ts
 * sealPartList, FORMAT.md "Part list MAC"). SSE-C headers on the completion are optional, as in
 * AWS; when present they must be the upload's key (400 otherwise), and without them no MAC is
 * stored.
 */
export async function completeMultipartUpload(ctx: RequestContext): Promise<Response> {
  const uploadId = uploadIdParam(ctx);
  const conditions = writeConditionsFromHeaders(ctx.headers);
  const upload = await ctx.objects.getMultipartUpload(ctx.bucket, ctx.key, uploadId);
  const root = await parseXml(
    await readXmlBody(ctx, { objectChecksums: true }),
    "CompleteMultipartUpload",
    ["Part"],
  );
  const parts: CompletePart[] = children(root, "Part").map((p) => {
    const num = childText(p, "PartNumber")?.trim() ?? "";
    const etag = childText(p, "ETag");
    if (!/^\d{1,6}$/.test(num) || etag === undefined) throw new S3Error("MalformedXML");
    const n = Number(num);
    if (n < 1 || n > PART_NUMBER_MAX) {
      throw new S3Error("InvalidArgument", {
        message: `Part number must be an integer between 1 and ${PART_NUMBER_MAX}, inclusive`,
      });
    }
    const part: CompletePart = { partNumber: n, etag: etag.trim().replace(/^"|"$/g, "") };
    const sums: ChecksumSet = {};
    for (const alg of CHECKSUM_ALGORITHMS) {
      const v = childText(p, checksumElementName(alg));
      if (v !== undefined) sums[alg] = v.trim();
    }
    if (Object.keys(sums).length > 0) part.checksums = sums;
    return part;
  });
  if (parts.length === 0) {
    throw new S3Error("MalformedXML", {
      message:
        "The XML you provided was not well-formed or did not validate against our published schema",
    });
  }
  for (let i = 1; i < parts.length; i++) {
    if (parts[i]!.partNumber <= parts[i - 1]!.partNumber) throw new S3Error("InvalidPartOrder");
  }
  const sse = sseOf(upload.metadata);
  const customerKey = await customerKeyOf(ctx);
  if (customerKey !== undefined && sse?.record.mode !== "SSE-C") {
    throw new S3Error("InvalidRequest", {
      message: "The multipart upload was not initiated with Server Side Encryption with " +
        "Customer provided keys.",
    });
  }
  // A part-format-2 upload's part list is MACed under its data key in the completing commit
  // (FORMAT.md "Part list MAC"). An SSE-C completion without the key (AWS does not ask for it,
  // and s3transfer before 0.7 does not send it) stores the IVs without a MAC; a wrong key is 400.
  const sealing = sse?.multipart === true && sse.partFormat === 2;
  const dataKey = sealing && (sse.record.mode !== "SSE-C" || customerKey !== undefined)
    ? await openUploadKey(ctx, sse, customerKey)
    : undefined;
  let info;
  try {
    info = await ctx.objects.completeMultipartUpload(
      ctx.bucket,
      ctx.key,
      uploadId,
      parts,
      {
        ...(conditions !== undefined ? { conditions } : {}),
        verify: (sums, type, count) => checkObjectChecksums(ctx.headers, sums, type, count),
        ...(sealing ? { seal: sealPartList(dataKey) } : {}),
      },
    );
  } finally {
    dataKey?.fill(0);
  }
  const w = new XmlWriter().open("CompleteMultipartUploadResult", { xmlns: S3_XMLNS });
  const host = ctx.headers.get("host") ?? ctx.url.host;
  w.leaf("Location", `${ctx.url.protocol}//${host}/${ctx.bucket}/${encodeKey(ctx.key)}`);
  w.leaf("Bucket", ctx.bucket).leaf("Key", ctx.key).leaf("ETag", quoteEtag(info.etag));
  writeChecksumElements(w, info.checksums, info.checksumType);
  w.close();
  const headers = new Headers();
  setSseHeaders(headers, sse, customerKey);
  return xmlResponse(w, { headers });
}

/**
 * The whole object's checksum the client may send on completion (x-amz-checksum-<alg>): the
 * full-object value, or for COMPOSITE the checksum of the part checksums, with or without the
 * `-N` part count (minio-go sends it without). Checked before the object is committed.
 */
function checkObjectChecksums(
  headers: Headers,
  sums: ChecksumSet,
  type: ChecksumType | undefined,
  count: number,
): void {
  for (const alg of CHECKSUM_ALGORITHMS) {
    const sent = headers.get(checksumHeaderName(alg))?.trim();
    if (sent === undefined) continue;
    const m = /^([A-Za-z0-9+/=]+)(?:-(\d{1,5}))?$/.exec(sent);
    if (m === null) {
      throw new S3Error("InvalidRequest", {
        message: `Value for ${checksumHeaderName(alg)} header is invalid.`,
      });
    }
    const have = sums[alg];
    if (have === undefined) continue; // the upload was not created with this algorithm
    const partsOk = m[2] === undefined || (type === "COMPOSITE" && Number(m[2]) === count);
    if (m[1] !== have || !partsOk) {
      throw new S3Error("BadDigest", {
        message: `The ${alg} you specified did not match the calculated checksum.`,
      });
    }
  }
}

function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}
