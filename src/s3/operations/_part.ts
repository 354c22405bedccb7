import { PART_NUMBER_MAX } from "../../config/limits.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";

/** partNumber must be 1..10,000 (AWS's InvalidArgument wording). */
export function partNumberParam(ctx: RequestContext): number {
  const v = ctx.query.get("partNumber") ?? "";
  const n = /^\d{1,6}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= PART_NUMBER_MAX)) {
    throw new S3Error("InvalidArgument", {
      message: `Part number must be an integer between 1 and ${PART_NUMBER_MAX}, inclusive`,
      extra: { ArgumentName: "partNumber", ArgumentValue: v },
    });
  }
  return n;
}

export function uploadIdParam(ctx: RequestContext): string {
  const v = ctx.query.get("uploadId");
  if (v === null || v === "") throw new S3Error("NoSuchUpload");
  return v;
}
