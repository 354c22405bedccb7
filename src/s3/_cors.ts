/**
 * Bucket CORS (AWS "Configuring cross-origin resource sharing"): the configuration document is
 * validated and stored as JSON; preflight OPTIONS and actual requests are matched against its
 * rules in order, the first rule matching origin, method and requested headers wins.
 */
import { CORS_RULES_MAX } from "../config/limits.ts";
import { S3Error } from "./errors.ts";
import { children, childText, parseXml, type XmlWriter } from "./xml.ts";

export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

const METHODS = new Set(["GET", "PUT", "HEAD", "POST", "DELETE"]);

export async function parseCorsXml(text: string): Promise<CorsRule[]> {
  const root = await parseXml(text, "CORSConfiguration", [
    "CORSRule",
    "AllowedOrigin",
    "AllowedMethod",
    "AllowedHeader",
    "ExposeHeader",
  ]);
  const rules = children(root, "CORSRule").map((r): CorsRule => {
    const texts = (name: string) =>
      children(r, name).map((n) => {
        if (typeof n !== "string") throw new S3Error("MalformedXML");
        return n.trim();
      });
    const rule: CorsRule = {
      allowedOrigins: texts("AllowedOrigin"),
      allowedMethods: texts("AllowedMethod"),
      allowedHeaders: texts("AllowedHeader"),
      exposeHeaders: texts("ExposeHeader"),
    };
    const id = childText(r, "ID");
    if (id !== undefined) rule.id = id;
    const maxAge = childText(r, "MaxAgeSeconds");
    if (maxAge !== undefined) {
      if (!/^\d+$/.test(maxAge.trim())) throw new S3Error("MalformedXML");
      rule.maxAgeSeconds = Number(maxAge.trim());
    }
    if (rule.allowedOrigins.length === 0 || rule.allowedMethods.length === 0) {
      throw new S3Error("MalformedXML");
    }
    for (const m of rule.allowedMethods) {
      if (!METHODS.has(m)) {
        throw new S3Error("InvalidRequest", {
          message: `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`,
        });
      }
    }
    for (const o of rule.allowedOrigins) {
      if (o.split("*").length > 2) {
        throw new S3Error("InvalidRequest", {
          message: `AllowedOrigin "${o}" can not have more than one wildcard.`,
        });
      }
    }
    for (const h of rule.allowedHeaders) {
      if (h.split("*").length > 2) {
        throw new S3Error("InvalidRequest", {
          message: `AllowedHeader "${h}" can not have more than one wildcard.`,
        });
      }
    }
    return rule;
  });
  if (rules.length === 0) throw new S3Error("MalformedXML");
  if (rules.length > CORS_RULES_MAX) {
    throw new S3Error("MalformedXML", {
      message:
        `The number of CORS rules should not exceed allowed limit of ${CORS_RULES_MAX} rules.`,
    });
  }
  return rules;
}

export function writeCorsXml(w: XmlWriter, rules: CorsRule[]): void {
  w.open("CORSConfiguration", { xmlns: "http://s3.amazonaws.com/doc/2006-03-01/" });
  for (const r of rules) {
    w.open("CORSRule");
    w.leaf("ID", r.id);
    for (const h of r.allowedHeaders) w.leaf("AllowedHeader", h);
    for (const m of r.allowedMethods) w.leaf("AllowedMethod", m);
    for (const o of r.allowedOrigins) w.leaf("AllowedOrigin", o);
    for (const h of r.exposeHeaders) w.leaf("ExposeHeader", h);
    w.leaf("MaxAgeSeconds", r.maxAgeSeconds);
    w.close();
  }
  w.close();
}

/** `*` matches any run of characters, case-insensitively for headers. */
function wildcardMatch(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  const star = p.indexOf("*");
  if (star < 0) return p === v;
  const head = p.slice(0, star);
  const tail = p.slice(star + 1);
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

/** The first rule that allows this origin, method and every requested header. */
export function matchCorsRule(
  rules: CorsRule[],
  origin: string,
  method: string,
  requestHeaders: string[] = [],
): CorsRule | undefined {
  return rules.find((r) =>
    r.allowedOrigins.some((o) => wildcardMatch(o, origin, false)) &&
    r.allowedMethods.includes(method) &&
    requestHeaders.every((h) => r.allowedHeaders.some((a) => wildcardMatch(a, h, true)))
  );
}

/** Response headers for a request a rule allowed. */
export function corsResponseHeaders(
  rule: CorsRule,
  origin: string,
  opts: { preflight: boolean; requestHeaders?: string[] },
): Record<string, string> {
  const anyOrigin = rule.allowedOrigins.includes("*");
  const h: Record<string, string> = {
    "access-control-allow-origin": anyOrigin ? "*" : origin,
    vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
  };
  if (!anyOrigin) h["access-control-allow-credentials"] = "true";
  if (rule.exposeHeaders.length > 0) {
    h["access-control-expose-headers"] = rule.exposeHeaders.join(", ");
  }
  if (opts.preflight) {
    h["access-control-allow-methods"] = rule.allowedMethods.join(", ");
    if (opts.requestHeaders !== undefined && opts.requestHeaders.length > 0) {
      h["access-control-allow-headers"] = opts.requestHeaders.join(", ");
    }
    if (rule.maxAgeSeconds !== undefined) {
      h["access-control-max-age"] = String(rule.maxAgeSeconds);
    }
  }
  return h;
}
