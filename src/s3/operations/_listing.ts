/** Shared by the three object listings: parameters, the object layer call, Contents elements. */
import { LIST_PAGE_ENTRIES_MAX } from "../../config/limits.ts";
import type { ListObjectsResult, ObjectInfo } from "../../object/types.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { CHECKSUM_ALGORITHMS } from "../_checksums.ts";
import { encodeForListing, isoDate, quoteEtag, writeOwner } from "../_respond.ts";
import type { XmlWriter } from "../xml.ts";
import { plainSize } from "../_sse.ts";

export interface ListingParams {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  urlEncode: boolean;
}

export function listingParams(ctx: RequestContext): ListingParams {
  const encoding = ctx.query.get("encoding-type");
  if (encoding !== null && encoding !== "" && encoding !== "url") {
    throw new S3Error("InvalidArgument", {
      message: "Invalid Encoding Method specified in Request",
      extra: { ArgumentName: "encoding-type", ArgumentValue: encoding },
    });
  }
  return {
    prefix: ctx.query.get("prefix") ?? "",
    delimiter: ctx.query.get("delimiter") ?? "",
    maxKeys: ctx.intParam("max-keys", LIST_PAGE_ENTRIES_MAX, 0, LIST_PAGE_ENTRIES_MAX),
    urlEncode: encoding === "url",
  };
}

/** Lists one page strictly after `after`; max-keys 0 answers an empty, untruncated page. */
export async function listPage(
  ctx: RequestContext,
  p: ListingParams,
  after: string,
): Promise<ListObjectsResult> {
  if (p.maxKeys === 0) {
    await ctx.objects.getBucketInfo(ctx.bucket);
    return { objects: [], prefixes: [], isTruncated: false };
  }
  return await ctx.objects.listObjects(ctx.bucket, {
    prefix: p.prefix,
    delimiter: p.delimiter,
    after,
    maxKeys: p.maxKeys,
  });
}

export function writeObjectEntry(
  w: XmlWriter,
  o: ObjectInfo,
  opts: { urlEncode: boolean; owner: boolean; element?: string; version?: boolean },
): void {
  w.open(opts.element ?? "Contents").leaf("Key", encodeForListing(o.key, opts.urlEncode));
  if (opts.version) w.leaf("VersionId", "null").leaf("IsLatest", true);
  w.leaf("LastModified", isoDate(o.lastModified)).leaf("ETag", quoteEtag(o.etag));
  for (const alg of CHECKSUM_ALGORITHMS) {
    if (o.checksums[alg] !== undefined) w.leaf("ChecksumAlgorithm", alg);
  }
  if (Object.keys(o.checksums).length > 0) {
    w.leaf("ChecksumType", o.checksumType ?? "FULL_OBJECT");
  }
  w.leaf("Size", plainSize(o));
  if (opts.owner) writeOwner(w);
  w.leaf("StorageClass", o.storageClass).close();
}

export function writeCommonPrefixes(w: XmlWriter, prefixes: string[], urlEncode: boolean): void {
  for (const p of prefixes) {
    w.open("CommonPrefixes").leaf("Prefix", encodeForListing(p, urlEncode)).close();
  }
}

/** Continuation tokens are opaque to clients: the key to continue after, base64url. */
export function encodeContinuationToken(after: string): string {
  const bytes = new TextEncoder().encode(after);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeContinuationToken(token: string): string {
  try {
    const bin = atob(token.replace(/-/g, "+").replace(/_/g, "/"));
    return new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(bin, (c) => c.charCodeAt(0)),
    );
  } catch {
    throw new S3Error("InvalidArgument", {
      message: "The continuation token provided is incorrect",
      extra: { ArgumentName: "continuation-token" },
    });
  }
}
