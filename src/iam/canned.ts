/**
 * The policies every deployment has, with MinIO's names and meaning so that its users' scripts
 * (`mc admin policy attach ... readwrite`) keep working.
 */
import { parsePolicy, type Policy } from "./policy.ts";

const ALL_S3 = "arn:aws:s3:::*";

const DOCUMENTS: Record<string, unknown> = {
  readwrite: {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["s3:*"], Resource: [ALL_S3] }],
  },
  readonly: {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Action: ["s3:GetBucketLocation", "s3:GetObject"],
      Resource: [ALL_S3],
    }],
  },
  writeonly: {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["s3:PutObject"], Resource: [ALL_S3] }],
  },
  diagnostics: {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Action: [
        "admin:ServerTrace",
        "admin:Profiling",
        "admin:ConsoleLog",
        "admin:ServerInfo",
        "admin:TopLocksInfo",
        "admin:OBDInfo",
        "admin:BandwidthMonitor",
        "admin:Prometheus",
      ],
      Resource: [ALL_S3],
    }],
  },
  consoleAdmin: {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["admin:*"] },
      { Effect: "Allow", Action: ["kms:*"] },
      { Effect: "Allow", Action: ["s3:*"], Resource: [ALL_S3] },
    ],
  },
};

/** The JSON text of each canned policy, by name. */
export const CANNED_POLICY_JSON: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(DOCUMENTS).map(([name, doc]) => [name, JSON.stringify(doc)]),
);

export const CANNED_POLICY_NAMES: readonly string[] = Object.keys(DOCUMENTS);

/** Parsed canned policies, by name. */
export function cannedPolicy(name: string): Policy | undefined {
  const json = CANNED_POLICY_JSON[name];
  return json === undefined ? undefined : parsePolicy(json, { kind: "identity" });
}
