/**
 * The part-list MAC of a multipart object (FORMAT.md "Part list MAC"): HMAC-SHA256 under a key
 * derived from the object's data key, over every part's number, stored size and stream IV in
 * order. Each part's packages authenticate only that part; this binds the list, so a part dropped,
 * swapped, repeated or replaced by another upload of its number is found before any byte is read.
 */
import { createHmac, hkdfSync } from "node:crypto";
import { PART_NUMBER_MAX } from "../config/limits.ts";
import { assert } from "../util/assert.ts";
import { concatBytes, equalBytes, utf8 } from "./_bytes.ts";
import { DecryptionFailed } from "./errors.ts";
import { KEY_BYTES, STREAM_IV_BYTES } from "./keys.ts";

export const PARTS_MAC_BYTES = 32;
const MAC_KEY_INFO = utf8("shale sse parts mac v1");
const LIST_MAGIC = utf8("shale-sse-parts-v1");
/** u32 part number, u64 stored size, 16-byte IV. */
const ENTRY_BYTES = 4 + 8 + STREAM_IV_BYTES;

/** One part as the MAC sees it. */
export interface PartEntry {
  readonly partNumber: number;
  /** The part's stored bytes: its 16-byte IV prefix and its stream. */
  readonly storedSize: number;
  readonly iv: Uint8Array;
}

/** FORMAT.md `parts-list`: "shale-sse-parts-v1" u32(n) n*(u32(part) u64(size) iv). */
export function encodePartList(parts: readonly PartEntry[]): Uint8Array {
  assert(parts.length >= 1 && parts.length <= PART_NUMBER_MAX, `${parts.length} parts`);
  const out = new Uint8Array(LIST_MAGIC.length + 4 + parts.length * ENTRY_BYTES);
  const view = new DataView(out.buffer);
  out.set(LIST_MAGIC, 0);
  let at = LIST_MAGIC.length;
  view.setUint32(at, parts.length);
  at += 4;
  for (const p of parts) {
    assert(
      Number.isInteger(p.partNumber) && p.partNumber >= 1 && p.partNumber < 2 ** 32,
      `Part number "${p.partNumber}"`,
    );
    assert(
      Number.isSafeInteger(p.storedSize) && p.storedSize >= STREAM_IV_BYTES,
      `Stored part size "${p.storedSize}"`,
    );
    assert(p.iv.length === STREAM_IV_BYTES, `Part IV is ${p.iv.length} bytes`);
    view.setUint32(at, p.partNumber);
    view.setBigUint64(at + 4, BigInt(p.storedSize));
    out.set(p.iv, at + 12);
    at += ENTRY_BYTES;
  }
  return out;
}

/** The 32-byte MAC of `parts` under the key derived from `dataKey`. */
export function partsMac(dataKey: Uint8Array, parts: readonly PartEntry[]): Uint8Array {
  assert(dataKey.length === KEY_BYTES, `Data key is ${dataKey.length} bytes`);
  const macKey = new Uint8Array(
    hkdfSync("sha256", dataKey, new Uint8Array(0), MAC_KEY_INFO, KEY_BYTES),
  );
  try {
    return new Uint8Array(createHmac("sha256", macKey).update(encodePartList(parts)).digest());
  } finally {
    macKey.fill(0);
  }
}

/** Throws DecryptionFailed unless `mac` is the MAC of `parts` (compared in constant time). */
export function verifyPartsMac(
  dataKey: Uint8Array,
  parts: readonly PartEntry[],
  mac: Uint8Array,
): void {
  if (!equalBytes(partsMac(dataKey, parts), mac)) {
    throw new DecryptionFailed("The part list does not match its MAC");
  }
}

/** `n` IVs of 16 bytes, concatenated (as `sse-part-ivs` stores them), split into a list. */
export function splitPartIvs(ivs: Uint8Array): Uint8Array[] {
  if (ivs.length % STREAM_IV_BYTES !== 0) {
    throw new DecryptionFailed(`Part IV list is ${ivs.length} bytes, not a multiple of 16`);
  }
  const out: Uint8Array[] = [];
  for (let at = 0; at < ivs.length; at += STREAM_IV_BYTES) {
    out.push(ivs.subarray(at, at + STREAM_IV_BYTES));
  }
  return out;
}

/** The concatenation `splitPartIvs` reads. */
export function joinPartIvs(ivs: readonly Uint8Array[]): Uint8Array {
  return concatBytes(...ivs);
}
