/** Response builders shared by the operations. */
import type { XmlWriter } from "./xml.ts";

/** The owner every bucket and object shows until IAM exists (a fixed canonical user id). */
export const OWNER_ID = "02d6176db174dc93cb1b899f7c6078f08654445fe8cf1b6ce98d8855f66bdbf4";
export const OWNER_DISPLAY_NAME = "shale";

export function xmlResponse(
  xml: XmlWriter | string,
  init: { status?: number; headers?: HeadersInit } = {},
): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/xml");
  return new Response(String(xml), { status: init.status ?? 200, headers });
}

export function emptyResponse(status = 200, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  if (status !== 204 && status !== 304) h.set("content-length", "0");
  return new Response(null, { status, headers: h });
}

/** `Wed, 21 Oct 2015 07:28:00 GMT` */
export function httpDate(d: Date): string {
  return d.toUTCString();
}

/** `2009-10-12T17:50:30.000Z` as S3 writes timestamps in XML. */
export function isoDate(d: Date): string {
  return d.toISOString();
}

export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

export function writeOwner(w: XmlWriter, name = "Owner"): void {
  w.open(name).leaf("ID", OWNER_ID).leaf("DisplayName", OWNER_DISPLAY_NAME).close();
}

/** `encoding-type=url`: keys and prefixes percent-encoded as AWS does (slashes kept). */
export function encodeForListing(value: string, urlEncode: boolean): string {
  if (!urlEncode) return value;
  return encodeURIComponent(value).replace(/%2F/g, "/").replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
