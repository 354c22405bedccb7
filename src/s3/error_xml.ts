/** The XML document of an error response (kept apart from errors.ts, which xml.ts imports). */
import type { S3Error } from "./errors.ts";
import { XmlWriter } from "./xml.ts";

/** The XML body of an error response. */
export function errorXml(
  err: S3Error,
  opts: { resource: string; requestId: string; hostId: string },
): string {
  const w = new XmlWriter();
  w.open("Error");
  w.leaf("Code", err.code);
  w.leaf("Message", err.message);
  if (err.details.bucket !== undefined) w.leaf("BucketName", err.details.bucket);
  if (err.details.key !== undefined) w.leaf("Key", err.details.key);
  for (const [k, v] of Object.entries(err.details.extra ?? {})) w.leaf(k, v);
  w.leaf("Resource", opts.resource);
  w.leaf("RequestId", opts.requestId);
  w.leaf("HostId", opts.hostId);
  w.close();
  return w.toString();
}
