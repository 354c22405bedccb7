/** Object metadata to and from HTTP headers: standard headers, x-amz-meta-*, tags, storage class. */
import {
  OBJECT_TAGS_MAX,
  TAG_KEY_LENGTH_MAX,
  TAG_VALUE_LENGTH_MAX,
  USER_METADATA_BYTES_MAX,
} from "../config/limits.ts";
import type { ObjectInfo, ObjectMetadata, StorageClass } from "../object/types.ts";
import { S3Error } from "./errors.ts";
import { httpDate, quoteEtag } from "./_respond.ts";

const STANDARD_HEADERS = [
  ["contentType", "content-type"],
  ["contentEncoding", "content-encoding"],
  ["contentDisposition", "content-disposition"],
  ["contentLanguage", "content-language"],
  ["cacheControl", "cache-control"],
  ["expires", "expires"],
] as const;

/** Reads metadata a client sets on an object from the request headers. */
export function metadataFromHeaders(headers: Headers): ObjectMetadata {
  const meta: ObjectMetadata = { user: {} };
  for (const [field, header] of STANDARD_HEADERS) {
    let v = headers.get(header);
    if (v === null) continue;
    if (header === "content-encoding") {
      // aws-chunked describes the transfer, not the object (AWS strips it).
      v = v.split(",").map((s) => s.trim()).filter((s) => s !== "" && s !== "aws-chunked").join(
        ",",
      );
      if (v === "") continue;
    }
    meta[field] = v;
  }
  let bytes = 0;
  for (const [name, value] of headers) {
    if (!name.startsWith("x-amz-meta-")) continue;
    const key = name.slice("x-amz-meta-".length);
    meta.user[key] = value;
    bytes += key.length + value.length;
  }
  if (bytes > USER_METADATA_BYTES_MAX) {
    throw new S3Error("MetadataTooLarge", {
      extra: { Size: String(bytes), MaxSizeAllowed: String(USER_METADATA_BYTES_MAX) },
    });
  }
  return meta;
}

/** Sets the object's metadata, ETag, size and dates on a GET/HEAD response. */
export function setObjectHeaders(h: Headers, info: ObjectInfo): void {
  const m = info.metadata;
  h.set("content-type", m.contentType ?? "binary/octet-stream");
  for (const [field, header] of STANDARD_HEADERS) {
    if (field === "contentType") continue;
    const v = m[field];
    if (v !== undefined) h.set(header, v);
  }
  for (const [k, v] of Object.entries(m.user)) h.set(`x-amz-meta-${k}`, v);
  h.set("etag", quoteEtag(info.etag));
  h.set("last-modified", httpDate(info.lastModified));
  h.set("accept-ranges", "bytes");
  if (info.storageClass !== "STANDARD") h.set("x-amz-storage-class", info.storageClass);
  if (info.tags.length > 0) h.set("x-amz-tagging-count", String(info.tags.length));
}

/** x-amz-storage-class: STANDARD (default) or REDUCED_REDUNDANCY. */
export function storageClassFromHeaders(headers: Headers): StorageClass | undefined {
  const v = headers.get("x-amz-storage-class");
  if (v === null || v === "") return undefined;
  if (v === "STANDARD" || v === "REDUCED_REDUNDANCY") return v;
  throw new S3Error("InvalidStorageClass", { extra: { StorageClassRequested: v } });
}

/** Checks a tag set as AWS does: count, lengths, unique keys. */
export function checkTags(tags: Array<[string, string]>, max = OBJECT_TAGS_MAX): void {
  if (tags.length > max) {
    throw new S3Error("InvalidTag", { message: `Object tags cannot be greater than ${max}` });
  }
  const seen = new Set<string>();
  for (const [k, v] of tags) {
    if ([...k].length === 0 || [...k].length > TAG_KEY_LENGTH_MAX) {
      throw new S3Error("InvalidTag", { message: "The TagKey you have provided is invalid" });
    }
    if ([...v].length > TAG_VALUE_LENGTH_MAX) {
      throw new S3Error("InvalidTag", { message: "The TagValue you have provided is invalid" });
    }
    if (seen.has(k)) {
      throw new S3Error("InvalidTag", {
        message: "Cannot provide multiple Tags with the same key",
      });
    }
    seen.add(k);
  }
}

/** x-amz-tagging: `k1=v1&k2=v2`, URL-encoded as a query string. */
export function tagsFromHeader(value: string | null): Array<[string, string]> | undefined {
  if (value === null) return undefined;
  const tags: Array<[string, string]> = [];
  for (const pair of value.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const [k, v] = eq < 0 ? [pair, ""] : [pair.slice(0, eq), pair.slice(eq + 1)];
    try {
      tags.push([
        decodeURIComponent(k.replace(/\+/g, " ")),
        decodeURIComponent(v.replace(/\+/g, " ")),
      ]);
    } catch {
      throw new S3Error("InvalidArgument", {
        message:
          "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
      });
    }
  }
  checkTags(tags);
  return tags;
}
