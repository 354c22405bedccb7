import { BucketNotFound } from "../../object/errors.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { corsResponseHeaders, type CorsRule, matchCorsRule } from "../_cors.ts";
import { emptyResponse } from "../_respond.ts";

/**
 * Preflight OPTIONS (AWS "OPTIONS object"): unauthenticated; answered from the bucket's CORS
 * rules. Without Origin and Access-Control-Request-Method it is 400; with no matching rule 403.
 */
export async function optionsObject(ctx: RequestContext): Promise<Response> {
  const origin = ctx.headers.get("origin");
  const method = ctx.headers.get("access-control-request-method");
  if (origin === null || origin === "") {
    throw new S3Error("BadRequest", {
      message: "Insufficient information. Origin request header needed.",
    });
  }
  if (method === null || method === "") {
    throw new S3Error("BadRequest", {
      message: "Invalid Access-Control-Request-Method: null",
    });
  }
  if (ctx.where.bucket === undefined) throw new S3Error("CORSResponse");
  let doc: string | undefined;
  try {
    doc = await ctx.objects.getBucketConfig(ctx.bucket, "cors");
  } catch (e) {
    if (e instanceof BucketNotFound) {
      throw new S3Error("CORSResponse", {
        message: "CORS is not enabled for this bucket.",
      });
    }
    throw e;
  }
  if (doc === undefined) {
    throw new S3Error("CORSResponse", { message: "CORS is not enabled for this bucket." });
  }
  const requested = (ctx.headers.get("access-control-request-headers") ?? "").split(",")
    .map((h) => h.trim().toLowerCase()).filter((h) => h !== "");
  const rule = matchCorsRule(JSON.parse(doc) as CorsRule[], origin, method, requested);
  if (rule === undefined) {
    throw new S3Error("CORSResponse", {
      message:
        "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
    });
  }
  return emptyResponse(
    200,
    corsResponseHeaders(rule, origin, { preflight: true, requestHeaders: requested }),
  );
}
