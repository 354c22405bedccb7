/**
 * The command line and environment, as MinIO's so its users feel at home:
 * `shale server DIR... [--address host:port] [--console-address host:port]`, SHALE_* variables
 * (MINIO_ROOT_USER / MINIO_ROOT_PASSWORD accepted). Pure: the environment comes in as a function.
 */
import { EllipsisError, expandDriveArgs } from "./ellipsis.ts";
import {
  ROOT_PASSWORD_LENGTH_MIN,
  ROOT_USER_LENGTH_MIN,
  SCANNER_INTERVAL_MS,
  SCANNER_OBJECTS_PER_SECOND_MAX,
  USAGE_SCAN_INTERVAL_MS,
} from "./limits.ts";
import { VERSION } from "./version.ts";

export class UsageError extends Error {
  override name = "UsageError";
}

export interface ListenAddress {
  hostname: string;
  port: number;
}

export interface RootCredentials {
  accessKey: string;
  secretKey: string;
}

export interface ServerConfig {
  /** Drive paths, ellipses expanded, in the order given. */
  drives: string[];
  address: ListenAddress;
  consoleAddress?: ListenAddress;
  region: string;
  /** Domains for virtual-host-style requests (`bucket.<domain>`), lower-case. */
  domains: string[];
  standardParity?: number;
  reducedParity?: number;
  /** Root credentials from the environment; absent means generate-or-reuse the stored pair. */
  rootCredentials?: RootCredentials;
  /** SHALE_ROOT_PASSWORD_OLD: the previous root secret, to re-seal what was sealed under it. */
  previousRootSecretKey?: string;
  /** `--dev`: one local drive, well-known credentials, a ready bucket, loopback only. */
  dev: boolean;
  /** `--certs-dir`: TLS is on when public.crt and private.key are there. */
  certsDir: string;
  /** `--access-log` or SHALE_ACCESS_LOG=on: one JSON line per request. */
  accessLog: boolean;
  /** SHALE_PROMETHEUS_AUTH_TYPE: "jwt" (bearer token, the default) or "public". */
  prometheusAuthType: "jwt" | "public";
  /** SHALE_USAGE_SCAN_INTERVAL_MS: how often bucket usage may be recounted after writes. */
  usageScanIntervalMs?: number;
}

export type Command =
  | { kind: "help"; text: string }
  | { kind: "version"; text: string }
  | { kind: "server"; config: ServerConfig };

export type EnvLookup = (name: string) => string | undefined;

export const DEFAULT_ADDRESS = ":9000";
export const DEFAULT_REGION = "us-east-1";
export const DEFAULT_CERTS_DIR = "/etc/shale/certs";
/** Dev mode: a drive under the working directory, so data survives a restart and is easy to find. */
export const DEV_DRIVE = "./data/dev";
/** Dev mode listens on loopback only: its credentials are printed and well known. */
export const DEV_ADDRESS = "127.0.0.1:9000";
/** Dev mode's well-known root credentials (as MinIO's minioadmin / minioadmin). */
export const DEV_CREDENTIALS: RootCredentials = {
  accessKey: "shaleadmin",
  secretKey: "shaleadmin",
};
/** Dev mode creates this bucket at start-up. */
export const DEV_BUCKET = "dev";

export const MAIN_HELP = `Shale ${VERSION}: a self-hosted, S3-compatible object store.

Usage:
  shale server DIR... [flags]    serve the S3 API on erasure-coded drives
  shale server --dev             try it out: one local drive, known credentials, a bucket
  shale admin COMMAND ...        manage users, groups, policies and service accounts; heal
  shale --help                   this text
  shale --version                print the version

Run \`shale server --help\` for the server's flags and environment variables.
`;

export const SERVER_HELP = `Usage: shale server DIR... [flags]
       shale server --dev [DIR] [flags]

Serves the S3 API from the drive folders DIR... MinIO's ellipsis syntax expands ranges:
/mnt/disk{1...4} is four drives, /mnt/d{1...2}/x{1...2} is four drives.

Flags:
  --address HOST:PORT          S3 API listen address (default "${DEFAULT_ADDRESS}": every interface;
                               port 0 picks a free port, printed at start-up)
  --console-address HOST:PORT  web console listen address (default: none; the console comes later)
  --certs-dir DIR              TLS: serve HTTPS when DIR holds public.crt and private.key, as MinIO
                               (default "${DEFAULT_CERTS_DIR}"; plain HTTP when they are absent)
  --access-log                 log one JSON line per request (as SHALE_ACCESS_LOG=on)
  --dev                        development mode: no arguments needed. One drive at "${DEV_DRIVE}"
                               (unless DIR is given), root user/password "${DEV_CREDENTIALS.accessKey}"/"${DEV_CREDENTIALS.secretKey}"
                               (unless SHALE_ROOT_* are set), bucket "${DEV_BUCKET}" created, address
                               "${DEV_ADDRESS}" (unless --address is given). Never for production.
  -h, --help                   this text

Environment:
  SHALE_ROOT_USER              root access key (at least ${ROOT_USER_LENGTH_MIN} characters); MINIO_ROOT_USER accepted
  SHALE_ROOT_PASSWORD          root secret key (at least ${ROOT_PASSWORD_LENGTH_MIN} characters); MINIO_ROOT_PASSWORD accepted
                               Without both, a random pair is generated on first start, stored with
                               mode 0600 in <parent of the first drive>/.shale-credentials, reused on
                               later starts, and printed.
  SHALE_ROOT_PASSWORD_OLD      the previous root secret key, after changing SHALE_ROOT_PASSWORD: the
                               IAM document sealed under it is opened and re-sealed under the new
                               one (MINIO_ROOT_PASSWORD_OLD accepted). Without it a changed root
                               secret stops the start-up, and nothing is overwritten.
  SHALE_REGION                 region reported to clients and checked in signatures (default "${DEFAULT_REGION}")
  SHALE_STORAGE_CLASS_STANDARD parity of the STANDARD class, "EC:n" (default by erasure set size:
                               1 drive EC:0, 2-3 EC:1, 4-5 EC:2, 6-7 EC:3, 8-16 EC:4)
  SHALE_STORAGE_CLASS_RRS      parity of REDUCED_REDUNDANCY, "EC:n" (default EC:1)
  SHALE_DOMAIN                 comma-separated domains for virtual-host-style requests
                               (bucket.s3.example.com); path-style always works
  SHALE_LOG_LEVEL              debug, info, warn or error (default "info")
  SHALE_ACCESS_LOG             "on" logs one JSON line per request: request id, principal, operation,
                               bucket, key, status, bytes in/out, duration, remote address, user agent
  SHALE_PROMETHEUS_AUTH_TYPE   "jwt" (default: a bearer token as \`mc admin prometheus generate\`
                               makes) or "public"; metrics at /minio/v2/metrics/{cluster,node,bucket}
  SHALE_USAGE_SCAN_INTERVAL_MS bucket usage is recounted at most this often, after writes
                               (default ${USAGE_SCAN_INTERVAL_MS})
  SHALE_SCANNER_INTERVAL       pause between two walks of the heal scanner over every object: "30s",
                               "5m", "1h" (default ${SCANNER_INTERVAL_MS / 60_000} minutes) or "off"
  SHALE_SCANNER_OBJECTS_PER_SECOND  objects the heal scanner checks a second (default ${SCANNER_OBJECTS_PER_SECOND_MAX})
  SHALE_KMS_SECRET_KEY         "name:base64 of 32 bytes": the built-in KMS's root key, for SSE-S3 and
                               SSE-KMS (MINIO_KMS_SECRET_KEY accepted; or a file named by
                               SHALE_KMS_SECRET_KEY_FILE). Without it SSE-S3/SSE-KMS answer 501, and
                               --dev uses a fixed, public development key. Losing it loses the data.
  SHALE_SSE_C_ALLOW_HTTP       "on" accepts SSE-C keys over plain HTTP from any address (by default
                               only over TLS or from loopback, as AWS refuses them over HTTP)
  SHALE_IDENTITY_OPENID_CONFIG_URL   an OpenID provider's discovery document
                               (.../.well-known/openid-configuration): enables STS
                               AssumeRoleWithWebIdentity with its tokens (default: none)
  SHALE_IDENTITY_OPENID_CLIENT_ID    the audience its tokens must name
  SHALE_IDENTITY_OPENID_CLAIM_NAME   the token claim that lists the session's policies (default "policy")
  SHALE_IDENTITY_OPENID_ROLE_POLICY  policies every token of the provider gets instead: the provider
                               becomes a role, whose ARN is printed at start-up (default: none)
  SHALE_IDENTITY_OPENID_ENABLE       "off" disables a configured provider (default "on")
                               Each of these with a suffix _<NAME> configures another provider, as
                               in MinIO; MINIO_IDENTITY_OPENID_* accepted.
  MINIO_REGION, MINIO_DOMAIN, MINIO_STORAGE_CLASS_*, MINIO_PROMETHEUS_AUTH_TYPE are accepted too.
`;

/** Parses argv (without the program name) and the environment into one command. */
export function parseCommandLine(args: string[], env: EnvLookup): Command {
  const first = args[0];
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    return { kind: "help", text: MAIN_HELP };
  }
  if (first === "--version" || first === "-v" || first === "version") {
    return { kind: "version", text: `shale version ${VERSION}` };
  }
  if (first !== "server") throw new UsageError(`Unknown command "${first}"; try \`shale --help\``);
  return parseServer(args.slice(1), env);
}

function parseServer(args: string[], env: EnvLookup): Command {
  const dirs: string[] = [];
  let address: string | undefined;
  let consoleAddress: string | undefined;
  let certsDir = DEFAULT_CERTS_DIR;
  let dev = false;
  let accessLog = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--help" || arg === "-h") return { kind: "help", text: SERVER_HELP };
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    if (flag === "--address" || flag === "--console-address") {
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`Flag ${flag} needs a value (HOST:PORT)`);
      if (flag === "--address") address = value;
      else consoleAddress = value;
    } else if (flag === "--certs-dir" || flag === "-S") {
      const value = inline ?? args[++i];
      if (value === undefined || value === "") throw new UsageError(`Flag ${flag} needs a folder`);
      certsDir = value;
    } else if (arg === "--dev") {
      dev = true;
    } else if (arg === "--access-log") {
      accessLog = true;
    } else if (arg.startsWith("-")) {
      throw new UsageError(`Unknown flag "${arg}"; try \`shale server --help\``);
    } else {
      dirs.push(arg);
    }
  }
  if (dev && dirs.length === 0) dirs.push(DEV_DRIVE);
  if (dirs.length === 0) throw new UsageError("No drives given; try `shale server --help`");
  let drives: string[];
  try {
    drives = expandDriveArgs(dirs);
  } catch (e) {
    if (e instanceof EllipsisError) throw new UsageError(e.message);
    throw e;
  }
  const config: ServerConfig = {
    drives,
    address: parseAddress(address ?? (dev ? DEV_ADDRESS : DEFAULT_ADDRESS), "--address"),
    region: env("SHALE_REGION") || env("MINIO_REGION") || DEFAULT_REGION,
    domains: (env("SHALE_DOMAIN") || env("MINIO_DOMAIN") || "").split(",").map((d) =>
      d.trim().toLowerCase()
    ).filter((d) => d !== ""),
    dev,
    certsDir,
    accessLog: accessLog || isOn(env("SHALE_ACCESS_LOG") || env("MINIO_ACCESS_LOG")),
    prometheusAuthType: parsePrometheusAuthType(
      env("SHALE_PROMETHEUS_AUTH_TYPE") || env("MINIO_PROMETHEUS_AUTH_TYPE"),
    ),
  };
  const scanMs = env("SHALE_USAGE_SCAN_INTERVAL_MS");
  if (scanMs) {
    if (!/^\d{1,9}$/.test(scanMs)) {
      throw new UsageError(`SHALE_USAGE_SCAN_INTERVAL_MS="${scanMs}" is not a whole number`);
    }
    config.usageScanIntervalMs = Number(scanMs);
  }
  if (consoleAddress !== undefined) {
    config.consoleAddress = parseAddress(consoleAddress, "--console-address");
  }
  const standard = env("SHALE_STORAGE_CLASS_STANDARD") || env("MINIO_STORAGE_CLASS_STANDARD");
  if (standard) config.standardParity = parseParity(standard, "SHALE_STORAGE_CLASS_STANDARD");
  const rrs = env("SHALE_STORAGE_CLASS_RRS") || env("MINIO_STORAGE_CLASS_RRS");
  if (rrs) config.reducedParity = parseParity(rrs, "SHALE_STORAGE_CLASS_RRS");
  const creds = rootCredentialsFromEnv(env) ?? (dev ? { ...DEV_CREDENTIALS } : undefined);
  if (creds !== undefined) config.rootCredentials = creds;
  const old = env("SHALE_ROOT_PASSWORD_OLD") || env("MINIO_ROOT_PASSWORD_OLD");
  if (old) config.previousRootSecretKey = old;
  return { kind: "server", config };
}

function isOn(v: string | undefined): boolean {
  return v !== undefined && ["on", "1", "true", "yes", "enable"].includes(v.toLowerCase());
}

function parsePrometheusAuthType(v: string | undefined): "jwt" | "public" {
  if (v === undefined || v === "" || v.toLowerCase() === "jwt") return "jwt";
  if (v.toLowerCase() === "public") return "public";
  throw new UsageError(`SHALE_PROMETHEUS_AUTH_TYPE="${v}" is neither "jwt" nor "public"`);
}

/** `host:port`, `:port` (every interface), `[v6]:port`. */
export function parseAddress(text: string, what: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`${what} "${text}" is not HOST:PORT (e.g. ":9000" or "127.0.0.1:9000")`);
  }
  const hostname = m[1] ?? (m[2] === "" || m[2] === undefined ? "0.0.0.0" : m[2]);
  return { hostname, port };
}

/** `EC:n` as MinIO's storage-class variables. */
export function parseParity(text: string, what: string): number {
  const m = /^EC:(\d{1,2})$/.exec(text.trim());
  if (m === null) throw new UsageError(`${what}="${text}" is not "EC:n" (e.g. EC:2)`);
  return Number(m[1]);
}

function rootCredentialsFromEnv(env: EnvLookup): RootCredentials | undefined {
  const user = env("SHALE_ROOT_USER") || env("MINIO_ROOT_USER");
  const password = env("SHALE_ROOT_PASSWORD") || env("MINIO_ROOT_PASSWORD");
  if (!user && !password) return undefined;
  if (!user || !password) {
    throw new UsageError(
      "SHALE_ROOT_USER and SHALE_ROOT_PASSWORD must be set together (or neither, to generate them)",
    );
  }
  if (user.length < ROOT_USER_LENGTH_MIN) {
    throw new UsageError(`SHALE_ROOT_USER must be at least ${ROOT_USER_LENGTH_MIN} characters`);
  }
  if (password.length < ROOT_PASSWORD_LENGTH_MIN) {
    throw new UsageError(
      `SHALE_ROOT_PASSWORD must be at least ${ROOT_PASSWORD_LENGTH_MIN} characters`,
    );
  }
  if (/[\s/]/.test(user) || user.includes(",")) {
    throw new UsageError("SHALE_ROOT_USER may not contain whitespace, '/' or ','");
  }
  return { accessKey: user, secretKey: password };
}
