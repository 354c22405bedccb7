/**
 * XML both ways. Responses: a small escaping writer (`XmlWriter`). Requests: the body is read with
 * a byte bound (XML_BODY_BYTES_MAX) and only then parsed with fast-xml-parser, entities off and
 * DOCTYPEs refused, so no entity expansion can grow it; malformed input is MalformedXML.
 */
import { XML_BODY_BYTES_MAX } from "../config/limits.ts";
import { lazy } from "../util/lazy.ts";
import { S3Error } from "./errors.ts";

// Loaded by the first request with an XML body: ~17 ms CPU of every start otherwise (issue 6).
const fastXmlParser = lazy(() => import("fast-xml-parser"));

export const S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";

/** Escapes text for element content and attribute values. */
export function escapeXml(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) => {
    switch (c) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case ">":
        return "&gt;";
      case '"':
        return "&quot;";
      case "'":
        return "&apos;";
      default:
        // Control characters cannot appear raw in XML 1.0; AWS writes them as references too.
        return `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`;
    }
  });
}

/** Builds an XML document element by element; every value is escaped. */
export class XmlWriter {
  #parts: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  #stack: string[] = [];

  open(name: string, attrs: Record<string, string> = {}): this {
    let tag = `<${name}`;
    for (const [k, v] of Object.entries(attrs)) tag += ` ${k}="${escapeXml(v)}"`;
    this.#parts.push(tag + ">");
    this.#stack.push(name);
    return this;
  }

  /** `<name>value</name>`; undefined writes nothing. */
  leaf(name: string, value: string | number | boolean | undefined): this {
    if (value === undefined) return this;
    this.#parts.push(`<${name}>${escapeXml(String(value))}</${name}>`);
    return this;
  }

  /** Escaped text inside the open element. */
  text(value: string): this {
    this.#parts.push(escapeXml(value));
    return this;
  }

  /** An element with attributes and no content. */
  empty(name: string, attrs: Record<string, string> = {}): this {
    let tag = `<${name}`;
    for (const [k, v] of Object.entries(attrs)) tag += ` ${k}="${escapeXml(v)}"`;
    this.#parts.push(tag + "/>");
    return this;
  }

  close(): this {
    const name = this.#stack.pop();
    if (name === undefined) throw new Error("XmlWriter.close without an open element");
    this.#parts.push(`</${name}>`);
    return this;
  }

  toString(): string {
    if (this.#stack.length > 0) {
      throw new Error(`XmlWriter has unclosed elements: "${this.#stack.join("/")}"`);
    }
    return this.#parts.join("");
  }
}

/**
 * Reads a request body as UTF-8 text, failing once it passes `maxBytes` without reading further.
 * Too large is MalformedXML, as AWS answers an oversized configuration document.
 */
export async function readBoundedText(
  body: ReadableStream<Uint8Array> | null,
  maxBytes = XML_BODY_BYTES_MAX,
): Promise<string> {
  if (body === null) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new S3Error("MalformedXML", {
          message: `The XML you provided was larger than the maximum of ${maxBytes} bytes`,
        });
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
  } catch {
    throw new S3Error("MalformedXML");
  }
}

/** A parsed element: text, or children by name (repeated names as arrays). */
export type XmlNode = string | { [name: string]: XmlNode | XmlNode[] };

/**
 * Parses a request document and returns its root element, checking the root's name. Elements in
 * `arrays` always come back as arrays. Malformed input, a DOCTYPE or another root is MalformedXML.
 */
export async function parseXml(
  text: string,
  root: string,
  arrays: readonly string[] = [],
): Promise<XmlNode> {
  const { XMLParser, XMLValidator } = await fastXmlParser();
  if (text.trim() === "" || /<!DOCTYPE/i.test(text) || XMLValidator.validate(text) !== true) {
    throw new S3Error("MalformedXML");
  }
  const arraySet = new Set(arrays);
  const parser = new XMLParser({
    processEntities: false,
    ignoreAttributes: true,
    parseTagValue: false,
    trimValues: false,
    removeNSPrefix: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    isArray: (name: string) => arraySet.has(name),
  });
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(text) as Record<string, unknown>;
  } catch {
    throw new S3Error("MalformedXML");
  }
  const names = Object.keys(doc).filter((k) => k !== "#text");
  if (names.length !== 1 || names[0] !== root || Array.isArray(doc[root])) {
    throw new S3Error("MalformedXML");
  }
  return normalize(doc[root]);
}

function normalize(v: unknown): XmlNode {
  if (typeof v === "string") return decodeEntities(v);
  if (v === null || v === undefined) return "";
  if (typeof v !== "object") return String(v);
  const out: { [name: string]: XmlNode | XmlNode[] } = {};
  for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
    if (k === "#text") continue; // whitespace between elements
    out[k] = Array.isArray(child) ? child.map(normalize) : normalize(child);
  }
  return out;
}

/** The five predefined entities and character references: the only ones XML without a DTD has. */
function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (whole, name: string) => {
    switch (name) {
      case "amp":
        return "&";
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "quot":
        return '"';
      case "apos":
        return "'";
    }
    const code = name.startsWith("#x") ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    if (!(code >= 0 && code <= 0x10ffff)) return whole;
    return String.fromCodePoint(code);
  });
}

/** The child element `name` of `node` as text; undefined when absent. Elements are MalformedXML. */
export function childText(node: XmlNode, name: string): string | undefined {
  if (typeof node === "string") return undefined;
  const v = node[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v) || typeof v !== "string") {
    if (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0) return "";
    throw new S3Error("MalformedXML");
  }
  return v;
}

/** The child elements `name` of `node` (zero or more). */
export function children(node: XmlNode, name: string): XmlNode[] {
  if (typeof node === "string") return [];
  const v = node[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}
