import type { RequestContext } from "../context.ts";
import { readObject } from "./_read.ts";

/** GetObject: the object reader streams straight into the response body. */
export function getObject(ctx: RequestContext): Promise<Response> {
  return readObject(ctx, true);
}
