import { equal } from "node:assert/strict";
import { staticCredentialStore } from "../s3/mod.ts";
import { prometheusAllowed, signPrometheusToken } from "./prometheus_auth.ts";

const credentials = staticCredentialStore([{ accessKey: "root", secretKey: "root-secret" }]);
const hour = () => new Date(Date.now() + 3600_000);

function withToken(token: string): Request {
  return new Request("http://x/minio/v2/metrics/cluster", {
    headers: { authorization: `Bearer ${token}` },
  });
}

Deno.test("accepts an HS512 token signed with the access key's secret, issuer prometheus", async () => {
  const token = signPrometheusToken("root", "root-secret", { expiresAt: hour() });
  equal(await prometheusAllowed(withToken(token), { authType: "jwt", credentials }), true);
});

Deno.test("refuses a missing, expired, foreign, re-signed or tampered token", async () => {
  const allowed = (r: Request) => prometheusAllowed(r, { authType: "jwt", credentials });
  equal(await allowed(new Request("http://x/")), false);
  const expired = signPrometheusToken("root", "root-secret", { expiresAt: new Date(1000) });
  equal(await allowed(withToken(expired)), false);
  equal(
    await allowed(withToken(signPrometheusToken("nobody", "root-secret", { expiresAt: hour() }))),
    false,
  );
  equal(
    await allowed(withToken(signPrometheusToken("root", "guess", { expiresAt: hour() }))),
    false,
  );
  const [h, p, s] = signPrometheusToken("root", "root-secret", { expiresAt: hour() }).split(".");
  const claims = JSON.parse(atob((p ?? "").replace(/-/g, "+").replace(/_/g, "/")));
  claims.iss = "someone";
  const forged = btoa(JSON.stringify(claims)).replace(/=+$/, "").replace(/\+/g, "-").replace(
    /\//g,
    "_",
  );
  equal(await allowed(withToken(`${h}.${forged}.${s}`)), false);
  const none = btoa(JSON.stringify({ alg: "none" })).replace(/=+$/, "");
  equal(await allowed(withToken(`${none}.${p}.${s}`)), false);
});

Deno.test("lets anyone scrape when the auth type is public", async () => {
  equal(
    await prometheusAllowed(new Request("http://x/"), { authType: "public", credentials }),
    true,
  );
});
