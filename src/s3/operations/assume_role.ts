import { STS_BODY_BYTES_MAX } from "../../config/limits.ts";
import { assumeRoleXml, StsError, stsErrorXml } from "../../iam/mod.ts";
import type { RequestContext } from "../context.ts";
import { S3Error } from "../errors.ts";
import { readBoundedText } from "../xml.ts";

/**
 * STS at the S3 endpoint, as MinIO: `POST /` with a form body `Action=AssumeRole&Version=
 * 2011-06-15[&DurationSeconds=..][&Policy=..]`, signed by an IAM user, or
 * `Action=AssumeRoleWithWebIdentity&WebIdentityToken=..`, unsigned. Answers and errors are STS's
 * XML (ErrorResponse), which STS clients parse.
 */
export async function assumeRole(ctx: RequestContext): Promise<Response> {
  const sts = ctx.options.credentials.sts;
  if (sts === undefined) {
    throw new S3Error("NotImplemented", { message: "STS is not enabled on this server" });
  }
  const fail = (e: StsError) =>
    new Response(stsErrorXml(e, ctx.requestId), {
      status: e.status,
      headers: { "content-type": "text/xml" },
    });
  let form: URLSearchParams;
  try {
    form = new URLSearchParams(await readBoundedText(ctx.body().stream, STS_BODY_BYTES_MAX));
  } catch (e) {
    if (e instanceof S3Error && e.code === "MalformedXML") {
      return fail(new StsError("ValidationError", "The request body is too large"));
    }
    throw e;
  }
  for (const [k, v] of ctx.query) if (!form.has(k)) form.set(k, v);
  if (form.get("Version") !== "2011-06-15") {
    return fail(new StsError("InvalidParameterValue", "Version must be 2011-06-15"));
  }
  if (form.get("Action") === "AssumeRoleWithWebIdentity") {
    // Unsigned by design: the OpenID token is the credential.
    try {
      const role = await sts.assumeRoleWithWebIdentity(form);
      return new Response(assumeRoleXml(role, ctx.requestId, "AssumeRoleWithWebIdentity"), {
        status: 200,
        headers: { "content-type": "text/xml" },
      });
    } catch (e) {
      if (e instanceof StsError) return fail(e);
      throw e;
    }
  }
  if (form.get("Action") !== "AssumeRole") {
    return fail(
      new StsError("InvalidAction", `Could not find operation ${form.get("Action") ?? ""}`),
    );
  }
  if (ctx.auth === undefined) {
    return fail(new StsError("AccessDenied", "AssumeRole requests must be signed", 403));
  }
  const caller = await ctx.options.credentials.identity?.(ctx.auth.accessKey);
  if (caller === undefined) {
    return fail(new StsError("AccessDenied", "Unknown caller", 403));
  }
  try {
    const role = await sts.assumeRole(caller, form);
    return new Response(assumeRoleXml(role, ctx.requestId), {
      status: 200,
      headers: { "content-type": "text/xml" },
    });
  } catch (e) {
    if (e instanceof StsError) return fail(e);
    throw e;
  }
}
