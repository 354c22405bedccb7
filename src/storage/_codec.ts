/**
 * Binary primitives and the record envelope of src/storage/FORMAT.md: big-endian integers,
 * length-prefixed strings and bytes, and `magic version reserved payloadLen payload sha256`.
 */
import { createHasherSync } from "../util/checksums.ts";
import { assert } from "../util/assert.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder("utf-8", { fatal: true });

/** Thrown by decoders for any malformed input; callers treat the record as missing. */
export class CorruptRecord extends Error {
  override name = "CorruptRecord";
}

export class ByteWriter {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
  u8(v: number): this {
    assert(Number.isInteger(v) && v >= 0 && v <= 0xff, `u8 out of range: ${v}`);
    this.#reserve(1);
    this.#view.setUint8(this.#len, v);
    this.#len += 1;
    return this;
  }
  u16(v: number): this {
    assert(Number.isInteger(v) && v >= 0 && v <= 0xffff, `u16 out of range: ${v}`);
    this.#reserve(2);
    this.#view.setUint16(this.#len, v);
    this.#len += 2;
    return this;
  }
  u32(v: number): this {
    assert(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, `u32 out of range: ${v}`);
    this.#reserve(4);
    this.#view.setUint32(this.#len, v);
    this.#len += 4;
    return this;
  }
  u64(v: number): this {
    assert(Number.isSafeInteger(v) && v >= 0, `u64 out of range: ${v}`);
    this.#reserve(8);
    this.#view.setBigUint64(this.#len, BigInt(v));
    this.#len += 8;
    return this;
  }
  raw(b: Uint8Array): this {
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }
  bytes(b: Uint8Array): this {
    return this.u32(b.length).raw(b);
  }
  str(s: string): this {
    return this.bytes(ENCODER.encode(s));
  }
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

export class ByteReader {
  #pos = 0;
  readonly #view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  #need(n: number): void {
    if (this.#pos + n > this.buf.length) throw new CorruptRecord("Record ends early");
  }
  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.#pos++);
  }
  u16(): number {
    this.#need(2);
    const v = this.#view.getUint16(this.#pos);
    this.#pos += 2;
    return v;
  }
  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#pos);
    this.#pos += 4;
    return v;
  }
  u64(): number {
    this.#need(8);
    const v = this.#view.getBigUint64(this.#pos);
    this.#pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CorruptRecord("Integer out of range");
    return Number(v);
  }
  raw(n: number): Uint8Array {
    this.#need(n);
    const out = this.buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }
  bytes(): Uint8Array {
    return this.raw(this.u32()).slice();
  }
  str(): string {
    try {
      return DECODER.decode(this.raw(this.u32()));
    } catch (e) {
      if (e instanceof CorruptRecord) throw e;
      throw new CorruptRecord("String is not UTF-8");
    }
  }
  /** Counts for lists: each element takes at least `minBytes`, so a huge count is caught early. */
  count(n: number, minBytes: number): number {
    if (n * minBytes > this.buf.length - this.#pos) throw new CorruptRecord("List count too large");
    return n;
  }
  end(): void {
    if (this.#pos !== this.buf.length) throw new CorruptRecord("Trailing bytes after record");
  }
}

const HEADER_BYTES = 12;
const DIGEST_BYTES = 32;

function sha256(parts: Uint8Array[]): Uint8Array {
  const h = createHasherSync("SHA256");
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Wraps a payload: magic[4] version:u16 reserved:u16 payloadLen:u32 payload sha256. */
export function sealRecord(magic: string, version: number, payload: Uint8Array): Uint8Array {
  assert(magic.length === 4, `magic must be 4 bytes: "${magic}"`);
  const out = new Uint8Array(HEADER_BYTES + payload.length + DIGEST_BYTES);
  const view = new DataView(out.buffer);
  out.set(ENCODER.encode(magic), 0);
  view.setUint16(4, version);
  view.setUint16(6, 0);
  view.setUint32(8, payload.length);
  out.set(payload, HEADER_BYTES);
  out.set(sha256([out.subarray(0, HEADER_BYTES + payload.length)]), HEADER_BYTES + payload.length);
  return out;
}

/** Checks magic, version, length and digest; returns the version and the payload. */
export function openRecord(
  magic: string,
  versions: number[],
  bytes: Uint8Array,
): { version: number; payload: Uint8Array } {
  if (bytes.length < HEADER_BYTES + DIGEST_BYTES) throw new CorruptRecord("Record too short");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const got = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!);
  if (got !== magic) throw new CorruptRecord(`Bad magic "${got}", expected "${magic}"`);
  const version = view.getUint16(4);
  if (!versions.includes(version)) throw new CorruptRecord(`Unknown record version ${version}`);
  if (view.getUint16(6) !== 0) throw new CorruptRecord("Reserved field is not zero");
  const len = view.getUint32(8);
  if (HEADER_BYTES + len + DIGEST_BYTES !== bytes.length) {
    throw new CorruptRecord("Record length does not match its header");
  }
  const want = bytes.subarray(HEADER_BYTES + len);
  const have = sha256([bytes.subarray(0, HEADER_BYTES + len)]);
  for (let i = 0; i < DIGEST_BYTES; i++) {
    if (want[i] !== have[i]) throw new CorruptRecord("Record checksum mismatch");
  }
  return { version, payload: bytes.subarray(HEADER_BYTES, HEADER_BYTES + len) };
}
