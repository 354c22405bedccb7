/** The Range header as S3 reads it: one `bytes=` range; anything else is ignored (whole object). */
import { S3Error } from "./errors.ts";

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * Parses `bytes=a-b`, `bytes=a-` or `bytes=-n` against an object of `size` bytes. Returns
 * undefined for a header S3 ignores (syntax it does not take, several ranges); throws
 * InvalidRange (416) when the range cannot be satisfied.
 */
export function parseRange(header: string | null, size: number): ByteRange | undefined {
  if (header === null) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null) return undefined;
  const [, a = "", b = ""] = m;
  if (a === "" && b === "") return undefined;
  const unsatisfiable = () =>
    new S3Error("InvalidRange", {
      extra: { RangeRequested: header, ActualObjectSize: String(size) },
      headers: { "content-range": `bytes */${size}` },
    });
  if (a === "") {
    const n = Number(b);
    if (n === 0) throw unsatisfiable();
    // RFC 9110 14.1.2: on an empty representation only a non-zero suffix range is satisfiable;
    // it selects nothing, so the whole (empty) object is answered, 200 (readers of file tails
    // rely on it).
    if (size === 0) return undefined;
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== "" && Number(b) < start) return undefined;
  if (start >= size) throw unsatisfiable();
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  return { start, end };
}
