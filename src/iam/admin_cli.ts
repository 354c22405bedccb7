/**
 * `shale admin ...`: the built-in command line for users, groups, policies and service accounts,
 * talking to a server's admin API (`/minio/admin/v3`) with SigV4-signed requests.
 *
 *   shale admin user add <accessKey> <secretKey>      shale admin user list
 *   shale admin user remove|enable|disable <accessKey>
 *   shale admin policy create <name> <file.json>      shale admin policy list
 *   shale admin policy remove <name>
 *   shale admin policy attach|detach <policy,...> (--user <name> | --group <name>)
 *   shale admin group add <group> <member>...         shale admin group list
 *   shale admin svcacct add <user> [--policy <file.json>] [--expiry <ISO date>]
 *
 * Where: --endpoint (or SHALE_ENDPOINT, default http://127.0.0.1:9000); who: --access-key and
 * --secret-key (or SHALE_ROOT_USER / SHALE_ROOT_PASSWORD); --region (or SHALE_REGION).
 */
import { createHash } from "node:crypto";
import { encodeQuery, signRequest } from "../auth/mod.ts";
import { decryptMadmin, isMadminEncrypted } from "./madmin_crypto.ts";

export interface AdminCliIo {
  env: (name: string) => string | undefined;
  readFile: (path: string) => Promise<string>;
  print: (line: string) => void;
  printError: (line: string) => void;
}

export const ADMIN_USAGE = `Usage: shale admin <user|policy|group|svcacct|heal> <command> [args]
  user add <accessKey> <secretKey> | user list | user remove|enable|disable <accessKey>
  policy create <name> <file.json> | policy list | policy remove <name>
  policy attach|detach <policy,...> (--user <name> | --group <name>)
  group add <group> <member>... | group list
  svcacct add <user> [--policy <file.json>] [--expiry <ISO date>]
  heal [bucket[/prefix]] [--wait]   (start a heal of everything or a bucket; --wait follows it)
Options: --endpoint URL (SHALE_ENDPOINT), --access-key (SHALE_ROOT_USER),
  --secret-key (SHALE_ROOT_PASSWORD), --region (SHALE_REGION)`;

/** What a `shale admin` command line says: `--name value` flags, bare `switches`, the words. */
export interface AdminArgs {
  flags: Map<string, string>;
  switches: Set<string>;
  words: string[];
}

/** Splits an admin command line; a string is the usage problem. */
export function parseAdminArgs(args: string[], switches: string[] = []): AdminArgs | string {
  const out: AdminArgs = { flags: new Map(), switches: new Set(), words: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (switches.includes(a)) out.switches.add(a);
    else if (a.startsWith("--")) {
      const value = args[i + 1];
      if (value === undefined) return `${a} needs a value`;
      out.flags.set(a.slice(2), value);
      i++;
    } else out.words.push(a);
  }
  return out;
}

export const CREDENTIALS_NEEDED =
  "credentials are needed: --access-key and --secret-key, or SHALE_ROOT_*";

/** Runs one admin command; returns the process exit code (0 ok, 1 refused, 2 usage). */
export async function runAdminCommand(args: string[], io: AdminCliIo): Promise<number> {
  const parsed = parseAdminArgs(args);
  if (typeof parsed === "string") return usage(io, parsed);
  const { flags, words } = parsed;
  const who = adminTarget(flags, io);
  if (who === undefined) return usage(io, CREDENTIALS_NEEDED);
  const call = (method: string, path: string, query: Record<string, string>, body = "") =>
    adminRequest(who, method, path, query, body);

  const [noun, verb, ...rest] = words;
  let answer: { status: number; text: string };
  switch (`${noun} ${verb}`) {
    case "user add":
      if (rest.length !== 2) return usage(io, "user add <accessKey> <secretKey>");
      answer = await call(
        "PUT",
        "add-user",
        { accessKey: rest[0]! },
        JSON.stringify({ secretKey: rest[1], status: "enabled" }),
      );
      break;
    case "user list":
      answer = await call("GET", "list-users", {});
      break;
    case "user remove":
      if (rest.length !== 1) return usage(io, "user remove <accessKey>");
      answer = await call("DELETE", "remove-user", { accessKey: rest[0]! });
      break;
    case "user enable":
    case "user disable":
      if (rest.length !== 1) return usage(io, `user ${verb} <accessKey>`);
      answer = await call("PUT", "set-user-status", {
        accessKey: rest[0]!,
        status: verb === "enable" ? "enabled" : "disabled",
      });
      break;
    case "policy create":
      if (rest.length !== 2) return usage(io, "policy create <name> <file.json>");
      answer = await call(
        "PUT",
        "add-canned-policy",
        { name: rest[0]! },
        await io.readFile(rest[1]!),
      );
      break;
    case "policy list":
      answer = await call("GET", "list-canned-policies", {});
      break;
    case "policy remove":
      if (rest.length !== 1) return usage(io, "policy remove <name>");
      answer = await call("DELETE", "remove-canned-policy", { name: rest[0]! });
      break;
    case "policy attach":
    case "policy detach": {
      const user = flags.get("user");
      const group = flags.get("group");
      if (rest.length !== 1 || (user === undefined) === (group === undefined)) {
        return usage(io, `policy ${verb} <policy,...> (--user <name> | --group <name>)`);
      }
      answer = await call(
        "POST",
        `idp/builtin/policy/${verb}`,
        {},
        JSON.stringify({
          policies: rest[0]!.split(","),
          ...(user !== undefined ? { user } : { group }),
        }),
      );
      break;
    }
    case "group add":
      if (rest.length < 2) return usage(io, "group add <group> <member>...");
      answer = await call(
        "PUT",
        "update-group-members",
        {},
        JSON.stringify({ group: rest[0], members: rest.slice(1), isRemove: false }),
      );
      break;
    case "group list":
      answer = await call("GET", "groups", {});
      break;
    case "svcacct add": {
      if (rest.length !== 1) return usage(io, "svcacct add <user> [--policy <file>]");
      const policyFile = flags.get("policy");
      const expiry = flags.get("expiry");
      answer = await call(
        "PUT",
        "add-service-account",
        {},
        JSON.stringify({
          targetUser: rest[0],
          ...(policyFile !== undefined ? { policy: await io.readFile(policyFile) } : {}),
          ...(expiry !== undefined ? { expiration: expiry } : {}),
        }),
      );
      break;
    }
    default:
      return usage(io, words.length === 0 ? "" : `unknown command "${words.join(" ")}"`);
  }
  if (answer.status !== 200) {
    let message = answer.text;
    try {
      const e = JSON.parse(answer.text) as { Code?: string; Message?: string };
      message = `${e.Code ?? answer.status}: ${e.Message ?? ""}`;
    } catch { /* not JSON: print as is */ }
    io.printError(`shale admin: ${message}`);
    return 1;
  }
  if (answer.text !== "") io.print(answer.text);
  return 0;
}

export interface AdminTarget {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
}

/** Where and who from the flags and environment; undefined without credentials. */
export function adminTarget(flags: Map<string, string>, io: AdminCliIo): AdminTarget | undefined {
  const endpoint = flags.get("endpoint") ?? io.env("SHALE_ENDPOINT") ?? "http://127.0.0.1:9000";
  const accessKey = flags.get("access-key") ?? io.env("SHALE_ROOT_USER") ??
    io.env("MINIO_ROOT_USER");
  const secretKey = flags.get("secret-key") ?? io.env("SHALE_ROOT_PASSWORD") ??
    io.env("MINIO_ROOT_PASSWORD");
  const region = flags.get("region") ?? io.env("SHALE_REGION") ?? "us-east-1";
  if (accessKey === undefined || secretKey === undefined) return undefined;
  return { endpoint, accessKey, secretKey, region };
}

function usage(io: AdminCliIo, problem: string): number {
  if (problem !== "") io.printError(`shale admin: ${problem}`);
  io.printError(ADMIN_USAGE);
  return 2;
}

/** One SigV4-signed request to `/minio/admin/v3/<op>`. */
export async function adminRequest(
  who: AdminTarget,
  method: string,
  op: string,
  query: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  const rawPath = `/minio/admin/v3/${op}`;
  const rawQuery = encodeQuery(query);
  const url = new URL(rawPath + (rawQuery === "" ? "" : `?${rawQuery}`), who.endpoint);
  const signed = signRequest({
    method,
    rawPath,
    rawQuery,
    headers: new Headers({ host: url.host }),
  }, {
    accessKey: who.accessKey,
    secretKey: who.secretKey,
    region: who.region,
    payloadHash: createHash("sha256").update(body).digest("hex"),
  });
  const r = await fetch(url, {
    method,
    headers: signed.headers,
    ...(method === "GET" || method === "HEAD" ? {} : { body }),
  });
  const bytes = new Uint8Array(await r.arrayBuffer());
  // The answers MinIO encrypts for the caller (list-users, service accounts) come back as madmin
  // ciphertexts under the caller's secret key.
  const plain = r.ok && isMadminEncrypted(bytes)
    ? await decryptMadmin(who.secretKey, bytes)
    : bytes;
  return { status: r.status, text: new TextDecoder().decode(plain) };
}
