/**
 * GetObject and HeadObject share everything but the body: conditionals, Range or partNumber,
 * response-* overrides, checksums on x-amz-checksum-mode: ENABLED. An encrypted object is shown
 * with its plaintext sizes and decrypted package by package (_sse.ts); SSE-C needs the key.
 */
import { PART_NUMBER_MAX } from "../../config/limits.ts";
import type { ObjectReader } from "../../object/types.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { setChecksumHeaders } from "../_checksums.ts";
import { checkReadConditions } from "../_conditions.ts";
import { setObjectHeaders } from "../_metadata.ts";
import { parseRange } from "../_range.ts";
import { plaintextReader, setSseHeaders } from "../_sse.ts";

const OVERRIDES: Array<[string, string]> = [
  ["response-content-type", "content-type"],
  ["response-content-language", "content-language"],
  ["response-expires", "expires"],
  ["response-cache-control", "cache-control"],
  ["response-content-disposition", "content-disposition"],
  ["response-content-encoding", "content-encoding"],
];

export function checkVersionId(ctx: RequestContext): void {
  const v = ctx.query.get("versionId");
  if (v !== null && v !== "null") {
    throw new S3Error("NoSuchVersion", { bucket: ctx.bucket, key: ctx.key });
  }
}

export async function readObject(ctx: RequestContext, withBody: boolean): Promise<Response> {
  checkVersionId(ctx);
  const partParam = ctx.query.get("partNumber");
  let partNumber: number | undefined;
  if (partParam !== null) {
    if (!/^\d+$/.test(partParam) || Number(partParam) < 1 || Number(partParam) > PART_NUMBER_MAX) {
      throw new S3Error("InvalidArgument", {
        message: `Part number must be an integer between 1 and ${PART_NUMBER_MAX}, inclusive`,
        extra: { ArgumentName: "partNumber", ArgumentValue: partParam },
      });
    }
    partNumber = Number(partParam);
    if (ctx.headers.has("range")) {
      throw new S3Error("InvalidRequest", {
        message: "Cannot specify both Range header and partNumber query parameter",
      });
    }
  }
  const reader: ObjectReader = await ctx.objects.openObject(ctx.bucket, ctx.key);
  let streaming = false;
  try {
    const plain = await plaintextReader(ctx, reader, { bucket: ctx.bucket, key: ctx.key });
    const { info, sse, customerKey } = plain;
    checkReadConditions(ctx.headers, info);
    const headers = new Headers();
    setObjectHeaders(headers, info);
    setSseHeaders(headers, sse, customerKey);
    let offset = 0;
    let length = info.size;
    let partial = false;
    if (partNumber !== undefined) {
      if (info.parts.length === 0) {
        // A single-PUT object is its own part 1, served as a range over all of it (as AWS).
        if (partNumber !== 1) throw new S3Error("InvalidPartNumber");
        partial = info.size > 0;
      } else {
        const part = info.parts[partNumber - 1];
        if (part === undefined) throw new S3Error("InvalidPartNumber");
        for (let i = 0; i < partNumber - 1; i++) offset += info.parts[i]?.size ?? 0;
        length = part.size;
        headers.set("x-amz-mp-parts-count", String(info.parts.length));
        partial = true;
      }
    } else {
      const range = parseRange(ctx.headers.get("range"), info.size);
      if (range !== undefined) {
        offset = range.start;
        length = range.end - range.start + 1;
        partial = true;
      }
    }
    if (partial) {
      headers.set(
        "content-range",
        `bytes ${offset}-${offset + length - 1}/${info.size}`,
      );
    }
    if (ctx.headers.get("x-amz-checksum-mode")?.toUpperCase() === "ENABLED") {
      if (partNumber !== undefined && info.parts.length > 0) {
        setChecksumHeaders(headers, info.parts[partNumber - 1]?.checksums ?? {}, "COMPOSITE");
      } else if (!partial) {
        setChecksumHeaders(headers, info.checksums, info.checksumType ?? "FULL_OBJECT");
      }
    }
    for (const [param, header] of OVERRIDES) {
      const v = ctx.query.get(param);
      if (v !== null) headers.set(header, v);
    }
    headers.set("content-length", String(length));
    const status = partial ? 206 : 200;
    if (!withBody || length === 0) return new Response(null, { status, headers });
    streaming = true;
    return new Response(plain.stream(offset, length), { status, headers });
  } finally {
    if (!streaming) reader.close();
  }
}
