/**
 * Helpers for the real-client suites (tests/e2e_clients_*_test.ts): run a client's command line
 * with a clean environment, pick Debian's binaries over shims, make deterministic test files.
 */
import { createHash } from "node:crypto";

export const KiB = 1024;
export const MiB = 1024 * KiB;
/** The object sizes every client round-trips: empty, one byte, either side of the inline
 * threshold, just past one erasure block, and S3's minimum part size. */
export const SIZES = [0, 1, 128 * KiB - 1, 128 * KiB, MiB + 1, 5 * MiB];

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The first of `paths` that exists (Debian's /usr/bin before a pyenv shim), else `fallback`. */
export function preferBinary(paths: string[], fallback: string): string {
  for (const path of paths) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not there */ }
  }
  return fallback;
}

/**
 * Runs a command with only PATH, LANG and the given variables in its environment, so no user
 * configuration (AWS_*, RCLONE_*, ~/.s3cfg, proxies) leaks into a test.
 */
export async function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; stdin?: Uint8Array } = {},
): Promise<RunResult> {
  const command = new Deno.Command(cmd, {
    args,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      LANG: "C.UTF-8",
      LC_ALL: "C.UTF-8",
      ...opts.env,
    },
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  let out;
  if (opts.stdin === undefined) out = await command.output();
  else {
    const child = command.spawn();
    const writer = child.stdin.getWriter();
    await writer.write(opts.stdin);
    await writer.close();
    out = await child.output();
  }
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Like `run`, but throws with the command line and its output unless it exits 0. */
export async function runOk(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; stdin?: Uint8Array } = {},
): Promise<RunResult> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    throw new Error(
      `${cmd} ${
        args.join(" ")
      } exited with ${res.code}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`,
    );
  }
  return res;
}

import { bytesOf } from "../_s3.ts";
import type { TestServer } from "../_server.ts";
export { bytesOf };

/** Writes an s3cmd configuration for `server` (path-style only: no %(bucket)s in host_bucket). */
export async function writeS3cmdConfig(
  path: string,
  server: { endpoint: string; accessKey: string; secretKey: string; region: string },
  opts: { signatureV2: boolean },
): Promise<void> {
  const host = new URL(server.endpoint).host;
  await Deno.writeTextFile(
    path,
    [
      "[default]",
      `access_key = ${server.accessKey}`,
      `secret_key = ${server.secretKey}`,
      `host_base = ${host}`,
      `host_bucket = ${host}`,
      "use_https = False",
      `signature_v2 = ${opts.signatureV2 ? "True" : "False"}`,
      `bucket_location = ${server.region}`,
      "progress_meter = False",
      "",
    ].join("\n"),
  );
}

export function md5Hex(data: Uint8Array): string {
  return createHash("md5").update(data).digest("hex");
}

/** Every file under `dir` as a map from its path relative to `dir` (with "/") to its bytes. */
export async function readTree(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const walk = async (rel: string) => {
    for await (const entry of Deno.readDir(rel === "" ? dir : `${dir}/${rel}`)) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else out.set(path, await Deno.readFile(`${dir}/${path}`));
    }
  };
  await walk("");
  return out;
}

/** Writes `files` (relative path -> bytes) under `dir`, making folders as needed. */
export async function writeTree(dir: string, files: Map<string, Uint8Array>): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [path, data] of files) {
    const slash = path.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(`${dir}/${path.slice(0, slash)}`, { recursive: true });
    await Deno.writeFile(`${dir}/${path}`, data);
  }
}

/**
 * A tree of small files with the names clients get wrong: nested folders, spaces, unicode
 * (composed and not), `+`, `=`, `&`, and an empty file.
 */
export function awkwardTree(): Map<string, Uint8Array> {
  const names = [
    "top.txt",
    "empty",
    "a/b/c/deep.txt",
    "with space/file name.txt",
    "unicode/héllo-日本語-ü.txt",
    "unicode/e\u0301-decomposed.txt",
    "plus+equals=/a+b=c.txt",
    "amp&semi;/q?x#y.txt",
    "a/sibling.txt",
  ];
  return new Map(
    names.map((
      name,
      i,
    ) => [name, name === "empty" ? new Uint8Array(0) : bytesOf(100 + i * 37, i + 1)]),
  );
}

/** Asserts two trees hold the same paths with the same bytes; the message names the first diff. */
export function treeDiff(
  want: Map<string, Uint8Array>,
  got: Map<string, Uint8Array>,
): string | undefined {
  for (const [path, data] of want) {
    const other = got.get(path);
    if (other === undefined) return `missing ${JSON.stringify(path)}`;
    if (md5Hex(other) !== md5Hex(data)) return `bytes differ in ${JSON.stringify(path)}`;
  }
  for (const path of got.keys()) {
    if (!want.has(path)) return `unexpected ${JSON.stringify(path)}`;
  }
  return undefined;
}

/** The pinned mc binary: install_mc.sh builds it once into its cache (.ci/run does it up front). */
export async function mcBinary(): Promise<string> {
  const cache = Deno.env.get("SHALE_MC_CACHE");
  const out = await runOk("bash", [new URL("./install_mc.sh", import.meta.url).pathname], {
    env: {
      HOME: Deno.env.get("HOME") ?? "/root",
      ...(cache !== undefined ? { SHALE_MC_CACHE: cache } : {}),
    },
  });
  return out.stdout.trim().split("\n").at(-1)!;
}

/**
 * Runs one of the Python client suites (harness in _checks.py) against `server` with the
 * endpoint, keys, a temp working folder and `bucket` in its environment. Returns the checks it
 * passed, in order; throws with its output unless it reported success and exited 0.
 */
export async function runPythonSuite(
  script: string,
  server: TestServer,
  bucket: string,
  env: Record<string, string> = {},
): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "shale-python-suite-" });
  try {
    const res = await run(preferBinary(["/usr/bin/python3"], "python3"), [script], {
      cwd: dir,
      env: {
        HOME: dir,
        SHALE_ENDPOINT: server.endpoint,
        SHALE_ACCESS_KEY: server.accessKey,
        SHALE_SECRET_KEY: server.secretKey,
        SHALE_REGION: server.region,
        SHALE_WORKDIR: dir,
        SHALE_BUCKET: bucket,
        ...env,
      },
    });
    const last = res.stdout.trim().split("\n").at(-1) ?? "";
    let report: { ok?: boolean; checks?: string[]; failed?: string; error?: string };
    try {
      report = JSON.parse(last);
    } catch {
      throw new Error(
        `${script} printed no JSON (exit ${res.code}):\n${res.stdout}\n${res.stderr}`,
      );
    }
    if (!report.ok || res.code !== 0) {
      throw new Error(
        `${script}: check failed: ${report.failed}: ${report.error} (exit ${res.code})\n` +
          `${res.stderr}\n${server.output()}`,
      );
    }
    return report.checks ?? [];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
