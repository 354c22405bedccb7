import type { RequestContext } from "../context.ts";
import { readObject } from "./_read.ts";

/** HeadObject: GetObject's headers, no body (errors too carry no body). */
export function headObject(ctx: RequestContext): Promise<Response> {
  return readObject(ctx, false);
}
