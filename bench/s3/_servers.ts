/**
 * Starts MinIO and Shale the same way: 4 drive folders on one file system, EC:2, the same root
 * credentials, 127.0.0.1 on a free port, and waits for `/minio/health/live` to answer 200.
 */
import { createHash, createHmac } from "node:crypto";
import type { ServerName } from "./_args.ts";

export const ROOT_USER = "shalebench";
export const ROOT_PASSWORD = "shalebench-secret-key";
export const STORAGE_CLASS = "EC:2";
export const DRIVE_COUNT = 4;
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
/** Colour escapes (ESC [ ... m). */
const ANSI_SGR = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g");

export interface ServerSpec {
  /** The table column this server fills. */
  name: ServerName;
  /** What actually runs; MinIO in both columns is the harness's own A/A check. */
  kind: ServerName;
  /** Folder that holds the drives and the log. */
  dir: string;
  /** Path of the MinIO binary (unused for Shale). */
  minioBinary: string;
  /** Repository root: Shale runs from here with the permissions of `deno task shale`. */
  repoRoot: string;
  /** When set, Shale runs with `--cpu-prof` and writes its profile here on exit. */
  cpuProfDir?: string;
}

export class RunningServer {
  restarts = 0;
  #child: Deno.ChildProcess;
  #exited = false;

  constructor(
    readonly spec: ServerSpec,
    readonly port: number,
    child: Deno.ChildProcess,
    readonly logPath: string,
    /** Where this start's output begins in the log (earlier starts are above it). */
    readonly logOffset: number,
  ) {
    this.#child = child;
    child.status.then(() => this.#exited = true);
  }

  get pid(): number {
    return this.#child.pid;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return !this.#exited;
  }

  /** Resets the kernel's peak-RSS mark (VmHWM) so the next read covers only what follows. */
  async resetPeakRss(): Promise<void> {
    // proc(5): writing 5 to clear_refs resets the peak resident set size.
    await Deno.writeTextFile(`/proc/${this.pid}/clear_refs`, "5").catch(() => {});
  }

  /** Peak resident set size in bytes since start or the last reset (VmHWM). */
  async peakRssBytes(): Promise<number | undefined> {
    const status = await Deno.readTextFile(`/proc/${this.pid}/status`).catch(() => "");
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
  }

  async stop(): Promise<void> {
    if (this.#exited) return;
    try {
      this.#child.kill("SIGTERM");
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, STOP_GRACE_MS);
    await this.#child.status;
    clearTimeout(timer);
  }

  /** The line of this start's output that best says why it failed. */
  async failureLine(): Promise<string> {
    const lines = (await this.logTail(200)).split("\n").filter((l) => l.trim() !== "");
    return lines.find((l) => /error|panic|fatal|uncaught/i.test(l)) ?? lines.at(-1) ??
      "(no output)";
  }

  async logTail(lines = 5): Promise<string> {
    const bytes = await Deno.readFile(this.logPath).catch(() => new Uint8Array());
    // Deno colours uncaught errors even into a pipe; the table wants plain text.
    const text = new TextDecoder().decode(bytes.subarray(this.logOffset))
      .replace(ANSI_SGR, "");
    return text.trim().split("\n").slice(-lines).join("\n");
  }
}

export async function freePort(): Promise<number> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return await Promise.resolve(port);
}

export function drivePaths(dir: string): string[] {
  return Array.from({ length: DRIVE_COUNT }, (_, i) => `${dir}/disk${i + 1}`);
}

/** The argv of `deno task shale` from deno.json, so the permissions stay exactly those. */
export async function shaleCommand(repoRoot: string): Promise<string[]> {
  const json = JSON.parse(await Deno.readTextFile(`${repoRoot}/deno.json`)) as {
    tasks?: Record<string, string>;
  };
  const task = json.tasks?.["shale"];
  if (task === undefined) throw new Error('deno.json has no "shale" task');
  const words = task.split(/\s+/).filter((w) => w !== "");
  if (words[0] !== "deno") throw new Error(`The "shale" task does not start with deno: "${task}"`);
  return [Deno.execPath(), ...words.slice(1)];
}

/** Starts a server on fresh or existing drive folders and waits until it answers. */
export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const drives = drivePaths(spec.dir);
  for (const d of drives) await Deno.mkdir(d, { recursive: true });
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const logPath = `${spec.dir}/server.log`;
  const log = await Deno.open(logPath, { create: true, append: true });
  const logOffset = (await log.stat()).size;
  let cmd: string;
  let args: string[];
  let env: Record<string, string>;
  if (spec.kind === "minio") {
    cmd = spec.minioBinary;
    args = [
      "server",
      ...drives,
      "--address",
      address,
      "--console-address",
      `127.0.0.1:${await freePort()}`,
      "--certs-dir",
      `${spec.dir}/certs`,
      "--quiet",
    ];
    env = {
      MINIO_ROOT_USER: ROOT_USER,
      MINIO_ROOT_PASSWORD: ROOT_PASSWORD,
      MINIO_STORAGE_CLASS_STANDARD: STORAGE_CLASS,
      // Shale has no console yet; MinIO's is not part of what is measured.
      MINIO_BROWSER: "off",
      MINIO_UPDATE: "off",
      // MinIO refuses drives on the root file system (its IsRootDisk check cannot tell here and
      // reports them as not found); a 1-byte threshold turns that check off and nothing else.
      MINIO_ROOTDRIVE_THRESHOLD_SIZE: "1B",
    };
  } else {
    const [deno, ...rest] = await shaleCommand(spec.repoRoot);
    cmd = deno ?? Deno.execPath();
    // `deno run --cpu-prof ...`: V8 writes the profile when the process exits.
    const prof = spec.cpuProfDir === undefined
      ? []
      : ["--cpu-prof", `--cpu-prof-dir=${spec.cpuProfDir}`];
    args = [
      ...rest.slice(0, 1),
      ...prof,
      ...rest.slice(1),
      "server",
      ...drives,
      "--address",
      address,
    ];
    env = {
      SHALE_ROOT_USER: ROOT_USER,
      SHALE_ROOT_PASSWORD: ROOT_PASSWORD,
      SHALE_STORAGE_CLASS_STANDARD: STORAGE_CLASS,
      NO_COLOR: "1",
    };
  }
  const child = new Deno.Command(cmd, {
    args,
    cwd: spec.repoRoot,
    env: { ...baseEnv(), ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Both streams go to one log file; the pipes are drained so the server never blocks on them.
  void Promise.all([pump(child.stdout, log), pump(child.stderr, log)]).finally(() => log.close());
  const server = new RunningServer(spec, port, child, logPath, logOffset);
  await waitReady(server);
  return server;
}

async function pump(src: ReadableStream<Uint8Array>, dst: Deno.FsFile): Promise<void> {
  for await (const chunk of src) {
    let off = 0;
    while (off < chunk.length) off += await dst.write(chunk.subarray(off));
  }
}

function baseEnv(): Record<string, string> {
  const keep = ["PATH", "HOME", "TMPDIR", "LANG", "DENO_DIR", "DENO_V8_FLAGS"];
  const env: Record<string, string> = {};
  for (const k of keep) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/**
 * Ready means a signed ListBuckets succeeds: MinIO answers `/minio/health/live` before its object
 * layer is up (requests then fail with XMinioServerNotInitialized), so liveness is not enough.
 */
async function waitReady(server: RunningServer): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "";
  while (Date.now() < deadline) {
    if (!server.alive) {
      throw new Error(
        `${server.spec.name} exited before it was ready: ${await server.failureLine()}`,
      );
    }
    try {
      const res = await listBuckets(server.host);
      const body = await res.text();
      if (res.status === 200) return;
      last = `ListBuckets answered ${res.status}: ${/<Code>([^<]*)</.exec(body)?.[1] ?? ""}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await server.stop();
  throw new Error(`${server.spec.name} not ready after ${READY_TIMEOUT_MS} ms: ${last}`);
}

const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");

/** `GET /` signed with SigV4 (AWS: "Signature Version 4 signing process", header form). */
export function listBuckets(host: string, region = "us-east-1"): Promise<Response> {
  const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const signedHeaders = "host;x-amz-content-sha256;x-amz-date";
  const canonical = [
    "GET",
    "/",
    "",
    `host:${host}`,
    `x-amz-content-sha256:${EMPTY_SHA256}`,
    `x-amz-date:${amzDate}`,
    "",
    signedHeaders,
    EMPTY_SHA256,
  ].join("\n");
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = [
    "AWS4-HMAC-SHA256",
    amzDate,
    scope,
    createHash("sha256").update(canonical).digest("hex"),
  ].join("\n");
  let key: Buffer = createHmac("sha256", `AWS4${ROOT_PASSWORD}`).update(day).digest();
  for (const part of [region, "s3", "aws4_request"]) {
    key = createHmac("sha256", key).update(part).digest();
  }
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  return fetch(`http://${host}/`, {
    headers: {
      "x-amz-content-sha256": EMPTY_SHA256,
      "x-amz-date": amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${ROOT_USER}/${scope}, ` +
        `SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
    signal: AbortSignal.timeout(2_000),
  });
}
