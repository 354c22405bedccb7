import { deepEqual, equal, rejects } from "node:assert/strict";
import { S3Error } from "./errors.ts";
import { corsResponseHeaders, matchCorsRule, parseCorsXml } from "./_cors.ts";

const XML = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>https://*.example.com</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>300</MaxAgeSeconds>
  </CORSRule>
  <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule>
</CORSConfiguration>`;

Deno.test("parses rules and matches origin, method and requested headers", async () => {
  const rules = await parseCorsXml(XML);
  equal(rules.length, 2);
  const r = matchCorsRule(rules, "https://app.example.com", "PUT", ["x-amz-date", "content-type"]);
  equal(r, rules[0]);
  equal(matchCorsRule(rules, "https://app.example.com", "DELETE"), undefined);
  equal(matchCorsRule(rules, "https://evil.test", "PUT"), undefined);
  equal(matchCorsRule(rules, "https://app.example.com", "PUT", ["authorization"]), undefined);
  equal(matchCorsRule(rules, "https://anything.test", "HEAD"), rules[1]);
});

Deno.test("answers a preflight with the allowed methods, headers and max age", async () => {
  const [rule] = await parseCorsXml(XML);
  deepEqual(
    corsResponseHeaders(rule!, "https://app.example.com", {
      preflight: true,
      requestHeaders: ["x-amz-date"],
    }),
    {
      "access-control-allow-origin": "https://app.example.com",
      "access-control-allow-credentials": "true",
      "access-control-allow-methods": "GET, PUT",
      "access-control-allow-headers": "x-amz-date",
      "access-control-expose-headers": "ETag",
      "access-control-max-age": "300",
      vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    },
  );
});

Deno.test("refuses unknown methods, two wildcards and empty configurations", async () => {
  const is = (code: string) => (e: unknown) => e instanceof S3Error && e.code === code;
  await rejects(
    () =>
      parseCorsXml(
        "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>",
      ),
    is("InvalidRequest"),
  );
  await rejects(
    () =>
      parseCorsXml(
        "<CORSConfiguration><CORSRule><AllowedOrigin>*.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
      ),
    is("InvalidRequest"),
  );
  await rejects(() => parseCorsXml("<CORSConfiguration/>"), is("MalformedXML"));
});
