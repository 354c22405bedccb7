/**
 * A streaming `multipart/form-data` reader for POST uploads (RFC 7578). The text fields before
 * the file are read into memory, bounded by POST_FORM_FIELDS_BYTES_MAX; the `file` field comes
 * back as a stream that is never buffered whole. AWS requires the file to be the last field and
 * ignores anything after it, so reading stops at the file's closing delimiter.
 *
 * The file stream errors (never closes cleanly) if the body ends before the delimiter, so a
 * truncated upload cannot be committed.
 */
import { POST_FORM_FIELDS_BYTES_MAX } from "../config/limits.ts";
import { assert } from "../util/assert.ts";
import { SigV4Error } from "./types.ts";

export interface ParsedPostForm {
  /** Text fields before the file; names lower case (AWS compares them case-insensitively). */
  fields: Map<string, string>;
  file: {
    stream: ReadableStream<Uint8Array>;
    /** The filename of the file part ("" when the browser sent none). */
    filename: string;
    contentType?: string;
  };
}

export interface ParseMultipartOptions {
  /** Bytes of everything before the file's data (fields and part headers). */
  fieldsBytesMax?: number;
}

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");
const HEADER_END = encoder.encode("\r\n\r\n");
const utf8 = new TextDecoder("utf-8", { fatal: true });

function malformed(message: string): SigV4Error {
  return new SigV4Error(
    "MalformedPOSTRequest",
    `The body of your POST request is not well-formed multipart/form-data: ${message}`,
  );
}

/** The boundary parameter of a multipart/form-data Content-Type, or undefined. */
export function boundaryOf(contentType: string | null): string | undefined {
  if (contentType === null) return undefined;
  if (!/^\s*multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;,"]{1,70}))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

/** Index of `needle` in `hay` at or after `from`, or -1 (first-byte scan, then compare). */
function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  const last = hay.length - needle.length;
  let i = hay.indexOf(first, from);
  while (i >= 0 && i <= last) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
    i = hay.indexOf(first, i + 1);
  }
  return -1;
}

/**
 * Boyer-Moore-Horspool search for one needle (the delimiter, at most 74 bytes): it looks at about
 * one byte in `needle.length` of the file data, where a first-byte scan stops at every CR, which
 * text files have on every line.
 */
class NeedleSearch {
  readonly #needle: Uint8Array;
  readonly #skip = new Uint8Array(256);
  constructor(needle: Uint8Array) {
    const m = needle.length;
    assert(m >= 2 && m <= 255, `needle of ${m} bytes`);
    this.#needle = needle;
    this.#skip.fill(m);
    for (let k = 0; k < m - 1; k++) this.#skip[needle[k]!] = m - 1 - k;
  }
  get length(): number {
    return this.#needle.length;
  }
  indexIn(hay: Uint8Array, from: number): number {
    const needle = this.#needle;
    const m = needle.length;
    const last = needle[m - 1]!;
    const skip = this.#skip;
    for (let i = from + m - 1; i < hay.length; i += skip[hay[i]!]!) {
      if (hay[i] !== last) continue;
      let j = m - 2;
      let k = i - 1;
      while (j >= 0 && hay[k] === needle[j]) {
        j--;
        k--;
      }
      if (j < 0) return k + 1;
    }
    return -1;
  }
}

/**
 * The next delimiter in `buf`: a match of `delimiter` followed by "--", CRLF or transport padding
 * (RFC 2046); a match followed by anything else is content ("--boundaryX" is not a boundary).
 * `sure` is false when the bytes after a match have not arrived yet. -1: no match at all.
 */
function findDelimiter(
  buf: Uint8Array,
  delimiter: NeedleSearch,
  start = 0,
): { at: number; sure: boolean } | -1 {
  let from = start;
  for (;;) {
    const at = delimiter.indexIn(buf, from);
    if (at < 0) return -1;
    const after = at + delimiter.length;
    if (after + 2 > buf.length) return { at, sure: false };
    const a = buf[after];
    const b = buf[after + 1];
    if ((a === 0x2d && b === 0x2d) || (a === 0x0d && b === 0x0a) || a === 0x20 || a === 0x09) {
      return { at, sure: true };
    }
    from = at + 1;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

interface PartHeaders {
  name: string;
  filename?: string;
  contentType?: string;
}

function parsePartHeaders(block: string): PartHeaders {
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of block.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw malformed("a part header is not name: value");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-disposition") disposition = value;
    else if (name === "content-type") contentType = value;
  }
  if (disposition === undefined || !/^form-data\s*(;|$)/i.test(disposition)) {
    throw malformed("a part has no Content-Disposition: form-data");
  }
  const param = (p: string): string | undefined => {
    const m = new RegExp(`;\\s*${p}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]+))`, "i").exec(
      disposition,
    );
    if (m === null) return undefined;
    return m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2];
  };
  const name = param("name");
  if (name === undefined) throw malformed("a part has no name");
  const headers: PartHeaders = { name };
  const filename = param("filename");
  if (filename !== undefined) headers.filename = filename;
  if (contentType !== undefined) headers.contentType = contentType;
  return headers;
}

/**
 * Reads the fields of a POST form up to its `file` field and returns the file as a stream.
 * Throws SigV4Error (MalformedPOSTRequest, or InvalidArgument when there is no file).
 */
export async function parseMultipartForm(
  body: ReadableStream<Uint8Array>,
  boundary: string,
  opts: ParseMultipartOptions = {},
): Promise<ParsedPostForm> {
  if (!/^[0-9A-Za-z'()+_,\-./:=? ]{1,70}$/.test(boundary) || boundary.endsWith(" ")) {
    throw malformed("bad boundary");
  }
  const budget = opts.fieldsBytesMax ?? POST_FORM_FIELDS_BYTES_MAX;
  const reader = body.getReader();
  const delimiter = new NeedleSearch(encoder.encode(`\r\n--${boundary}`));
  // `pending` starts with a CRLF so that the first delimiter looks like every other one.
  let pending: Uint8Array = encoder.encode("\r\n");
  let consumed = 0;
  let ended = false;
  // While reading fields, `pending` is a view into `store`, which grows by doubling, so that a
  // form sent in tiny reads costs linear time, not quadratic.
  let store = new Uint8Array(0);
  let storeEnd = 0;
  const append = (piece: Uint8Array) => {
    const end = pending.byteOffset + pending.length;
    if (
      pending.buffer === store.buffer && end === storeEnd && end + piece.length <= store.length
    ) {
      store.set(piece, end);
      storeEnd = end + piece.length;
      pending = store.subarray(pending.byteOffset, storeEnd);
      return;
    }
    const next = new Uint8Array(Math.max(4096, 2 * (pending.length + piece.length)));
    next.set(pending, 0);
    next.set(piece, pending.length);
    store = next;
    storeEnd = pending.length + piece.length;
    pending = store.subarray(0, storeEnd);
  };

  const fail = async (e: SigV4Error): Promise<never> => {
    await reader.cancel(e).catch(() => {});
    throw e;
  };
  /**
   * Reads more into `pending`; false at the end of the body. Only the field phase calls it, when
   * what it looks for is not in `pending` yet: that is where the budget applies (the file part is
   * streamed by `fileStream`, not collected).
   */
  const more = async (): Promise<boolean> => {
    if (consumed + pending.length > budget) {
      await fail(
        new SigV4Error(
          "MalformedPOSTRequest",
          "Your POST request fields preceding the upload file were too large.",
        ),
      );
    }
    if (ended) return false;
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await reader.read();
    } catch (e) {
      throw malformed(`the body could not be read (${e instanceof Error ? e.message : e})`);
    }
    if (r.done) {
      ended = true;
      return false;
    }
    append(r.value);
    return true;
  };
  /** Drops `n` bytes from the front of `pending`, counting them against the budget. */
  const consume = (n: number) => {
    consumed += n;
    pending = pending.subarray(n);
  };

  /**
   * Reads until `find(from)` finds what it looks for in `pending`; its index. Each search starts
   * where the last one could no longer have matched (`tail` bytes before the old end).
   */
  const waitFor = async (
    find: (from: number) => number,
    tail: number,
    what: string,
  ): Promise<number> => {
    let from = 0;
    for (;;) {
      const at = find(from);
      if (at >= 0) return at;
      from = Math.max(0, pending.length - tail);
      if (!(await more())) return await fail(malformed(what));
    }
  };
  /** Reads until `pending` holds a delimiter for certain; its index. */
  const nextDelimiter = (what: string): Promise<number> =>
    waitFor(
      (from) => {
        const found = findDelimiter(pending, delimiter, from);
        return found !== -1 && found.sure ? found.at : -1;
      },
      delimiter.length + 2,
      what,
    );

  // Preamble: skip to the first delimiter.
  consume((await nextDelimiter("no boundary found")) + delimiter.length);
  let at: number;

  const fields = new Map<string, string>();
  for (;;) {
    // After a delimiter: "--" ends the form, CRLF starts a part.
    while (pending.length < 2) {
      if (!(await more())) await fail(malformed("the body ends after a boundary"));
    }
    if (pending[0] === 0x2d && pending[1] === 0x2d) {
      await reader.cancel().catch(() => {});
      throw new SigV4Error(
        "InvalidArgument",
        "POST requires exactly one file upload per request.",
        {
          ArgumentName: "file",
        },
      );
    }
    // Transport padding (spaces, tabs) may follow a delimiter before its CRLF (RFC 2046).
    const eol = await waitFor(
      (from) => indexOfBytes(pending, CRLF, from),
      CRLF.length,
      "the body ends after a boundary",
    );
    for (let i = 0; i < eol; i++) {
      if (pending[i] !== 0x20 && pending[i] !== 0x09) {
        await fail(malformed("garbage after a boundary"));
      }
    }
    consume(eol + 2);
    const end = await waitFor(
      (from) => indexOfBytes(pending, HEADER_END, from),
      HEADER_END.length,
      "the body ends inside part headers",
    );
    let headers: PartHeaders;
    try {
      headers = parsePartHeaders(utf8.decode(pending.subarray(0, end)));
    } catch (e) {
      return await fail(e instanceof SigV4Error ? e : malformed("part headers are not UTF-8"));
    }
    consume(end + 4);
    const name = headers.name.toLowerCase();

    if (name === "file") {
      const file: ParsedPostForm["file"] = {
        stream: fileStream(),
        filename: headers.filename ?? "",
      };
      if (headers.contentType !== undefined) file.contentType = headers.contentType;
      return { fields, file };
    }

    at = await nextDelimiter(`the body ends inside field "${headers.name}"`);
    let value: string;
    try {
      value = utf8.decode(pending.subarray(0, at));
    } catch {
      return await fail(malformed(`field "${headers.name}" is not UTF-8`));
    }
    if (fields.has(name)) await fail(malformed(`field "${headers.name}" appears twice`));
    fields.set(name, value);
    consume(at + delimiter.length);
  }

  /** The file part's data up to the next delimiter, streamed. */
  function fileStream(): ReadableStream<Uint8Array> {
    let done = false;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          if (done) return;
          const found = findDelimiter(pending, delimiter);
          if (found !== -1 && found.sure) {
            if (found.at > 0) controller.enqueue(pending.subarray(0, found.at));
            done = true;
            controller.close();
            // AWS ignores whatever follows the file.
            await reader.cancel().catch(() => {});
            return;
          }
          // Everything before a possible delimiter (one that matched but awaits the bytes after
          // it, or a tail that could grow into one) is file data.
          const safe = found !== -1 ? found.at : pending.length - (delimiter.length + 1);
          if (safe > 0) {
            controller.enqueue(pending.subarray(0, safe));
            pending = pending.subarray(safe);
            return;
          }
          let r: ReadableStreamReadResult<Uint8Array>;
          try {
            r = await reader.read();
          } catch (e) {
            controller.error(
              malformed(`the body could not be read (${e instanceof Error ? e.message : e})`),
            );
            return;
          }
          if (r.done) {
            controller.error(malformed("the body ends inside the file"));
            return;
          }
          // `pending` is a short tail here. If no delimiter starts in it (looked for in a small
          // window over the seam, which must reach a whole delimiter past the tail), it is file
          // data and the new piece is searched as it is, without copying it behind the tail.
          const window = concat(
            pending,
            r.value.subarray(0, Math.min(r.value.length, delimiter.length + 2)),
          );
          const seam = findDelimiter(window, delimiter);
          const conclusive = r.value.length >= delimiter.length + 2;
          if (!conclusive || (seam !== -1 && seam.at < pending.length)) {
            pending = concat(pending, r.value);
          } else {
            const tail = pending;
            pending = r.value;
            if (tail.length > 0) {
              controller.enqueue(tail);
              return;
            }
          }
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
  }
}
