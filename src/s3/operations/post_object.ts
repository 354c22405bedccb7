import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";

/** PostObject: browser form uploads with a signed POST policy. */
export function postObject(_ctx: RequestContext): Promise<Response> {
  return Promise.reject(
    new S3Error("NotImplemented", { message: "PostObject is not implemented yet" }),
  );
}
