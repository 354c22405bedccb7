/**
 * How object keys map to directories on a drive (the escaping table is in FORMAT.md). Every name
 * Shale itself creates inside a key's directory starts with `~` and a key segment never does once
 * escaped, so keys cannot collide with metadata files or data directories.
 */
import { FS_NAME_BYTES_MAX } from "../config/limits.ts";
import { createHasherSync, toHex } from "../util/checksums.ts";

/** The object metadata record inside a key's directory. */
export const META_FILE = "~meta";
/** Inside a `~h<sha256>` directory: the long segment it stands for. */
export const NAME_FILE = "~name";
/** System directory on every drive (not a valid bucket name). */
export const SYSTEM_DIR = ".shale.sys";
export const TMP_DIR = `${SYSTEM_DIR}/tmp`;

const ENCODER = new TextEncoder();
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The directory name of a data directory. */
export function dataDirName(dataDir: string): string {
  return `~${dataDir}`;
}

export interface EncodedSegment {
  name: string;
  /** Set when the segment was too long: write it to `<dir>/~name`. */
  longSegment?: string;
}

export function encodeSegment(s: string): EncodedSegment {
  let name: string;
  if (s === "") name = "~e";
  else if (s === ".") name = "~.";
  else if (s === "..") name = "~..";
  else if (s.includes("\0")) name = "~z" + s.replaceAll("%", "%25").replaceAll("\0", "%00");
  else if (s.startsWith("~")) name = "~" + s;
  else name = s;
  if (ENCODER.encode(name).length <= FS_NAME_BYTES_MAX) return { name };
  const h = createHasherSync("SHA256");
  h.update(ENCODER.encode(s));
  return { name: "~h" + toHex(h.digest()), longSegment: s };
}

export type DecodedName =
  | { kind: "segment"; segment: string }
  | { kind: "long" }
  | { kind: "meta" }
  | { kind: "dataDir"; dataDir: string }
  | { kind: "other" };

/** What a directory entry inside a bucket stands for. `long` needs its `~name` file read. */
export function decodeName(name: string): DecodedName {
  if (!name.startsWith("~")) return { kind: "segment", segment: name };
  if (name === META_FILE) return { kind: "meta" };
  if (name.startsWith("~~")) return { kind: "segment", segment: name.slice(1) };
  if (name === "~e") return { kind: "segment", segment: "" };
  if (name === "~.") return { kind: "segment", segment: "." };
  if (name === "~..") return { kind: "segment", segment: ".." };
  if (name.startsWith("~z")) {
    return {
      kind: "segment",
      segment: name.slice(2).replaceAll("%00", "\0").replaceAll("%25", "%"),
    };
  }
  if (name.startsWith("~h") && name.length === 66) return { kind: "long" };
  if (UUID_RE.test(name.slice(1))) return { kind: "dataDir", dataDir: name.slice(1) };
  return { kind: "other" };
}

export interface KeyPath {
  /** `<bucket>/<escaped segments>`: the key's directory, relative to the drive root. */
  dir: string;
  /** `~name` files to write (durably, before anything below them) for long segments. */
  nameFiles: Array<{ path: string; segment: string }>;
}

export function keyPath(bucket: string, key: string): KeyPath {
  let dir = bucket;
  const nameFiles: KeyPath["nameFiles"] = [];
  for (const seg of key.split("/")) {
    const enc = encodeSegment(seg);
    dir += "/" + enc.name;
    if (enc.longSegment !== undefined) {
      nameFiles.push({ path: `${dir}/${NAME_FILE}`, segment: enc.longSegment });
    }
  }
  return { dir, nameFiles };
}

/** Directory that holds the part of the key namespace under `prefixDirs` (complete segments). */
export function prefixDir(bucket: string, segments: string[]): string {
  let dir = bucket;
  for (const seg of segments) dir += "/" + encodeSegment(seg).name;
  return dir;
}

/** Compares strings by their UTF-8 bytes (S3's key order), not UTF-16 code units. */
export function compareKeys(a: string, b: string): number {
  // UTF-16 order equals UTF-8 byte order except around surrogates (U+D800..U+DFFF sort below
  // U+E000..U+FFFF in UTF-16 but above them in UTF-8); only then do we pay for encoding.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      const ea = ENCODER.encode(a.slice(i)), eb = ENCODER.encode(b.slice(i));
      const m = Math.min(ea.length, eb.length);
      for (let j = 0; j < m; j++) if (ea[j] !== eb[j]) return ea[j]! - eb[j]!;
      return ea.length - eb.length;
    }
    return x - y;
  }
  return a.length - b.length;
}
