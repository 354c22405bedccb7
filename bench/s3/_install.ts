/**
 * Builds the baselines once, from the Go module proxy, into bench/.cache/ (gitignored).
 *
 * How this works: `go install module@version` needs the proxy's version list to look for a
 * deprecation notice, and this network's proxy answers 403 to list requests, so each module is
 * fetched with `go mod download` (which only reads the pinned version) and built with `go build`
 * inside its module directory. GOPATH, GOCACHE and GOBIN all point inside bench/.cache, so
 * nothing outside it changes. A binary's file name carries its version: changing a pin rebuilds.
 * The modules are baselines to measure against; none of their code is used by Shale.
 */

/** Newest MinIO the proxy serves (the repository stopped tagging releases; this is its last
 * commit, 2026-02-12). Declares go 1.24; builds with the local Go 1.26. */
export const MINIO_MODULE = "github.com/minio/minio";
export const MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c";
/** Newest warp release the proxy serves (2025-10-15). */
export const WARP_MODULE = "github.com/minio/warp";
export const WARP_VERSION = "v1.3.1";

export interface Tools {
  minio: string;
  warp: string;
  /** Undefined when iperf3 is missing and could not be installed. */
  iperf3: string | undefined;
}

export interface InstallOptions {
  cacheDir: string;
  log: (line: string) => void;
}

export async function ensureTools(needMinio: boolean, opts: InstallOptions): Promise<Tools> {
  const binDir = `${opts.cacheDir}/bin`;
  await Deno.mkdir(binDir, { recursive: true });
  const warp = await ensureGoBinary(WARP_MODULE, WARP_VERSION, "warp", opts);
  const minio = needMinio ? await ensureGoBinary(MINIO_MODULE, MINIO_VERSION, "minio", opts) : "";
  const iperf3 = await ensureIperf3(opts.log);
  return { minio, warp, iperf3 };
}

function goEnv(cacheDir: string): Record<string, string> {
  return {
    GOPATH: `${cacheDir}/go`,
    GOCACHE: `${cacheDir}/gocache`,
    GOBIN: `${cacheDir}/bin`,
    GOFLAGS: "-modcacherw -buildvcs=false",
    GOTOOLCHAIN: "local",
    // sum.golang.org answers 404 for these two modules on this network (the proxy serves them);
    // their dependencies are still verified against the go.sum each module ships.
    GONOSUMDB: `${MINIO_MODULE},${WARP_MODULE}`,
  };
}

async function ensureGoBinary(
  module: string,
  version: string,
  name: string,
  opts: InstallOptions,
): Promise<string> {
  const target = `${opts.cacheDir}/bin/${name}-${version}`;
  if (await isFile(target)) return target;
  const env = goEnv(opts.cacheDir);
  opts.log(`installing ${module}@${version} (go mod download + go build; minutes for MinIO)`);
  const dl = await run("go", ["mod", "download", "-json", `${module}@${version}`], { env });
  if (!dl.ok) throw new Error(`go mod download ${module}@${version} failed: ${dl.stderr}`);
  const dir = (JSON.parse(dl.stdout) as { Dir?: string }).Dir;
  if (dir === undefined) throw new Error(`go mod download ${module}@${version} gave no Dir`);
  const tmp = `${target}.tmp`;
  const started = performance.now();
  const build = await run("go", ["build", "-trimpath", "-o", tmp, "."], { env, cwd: dir });
  if (!build.ok) throw new Error(`go build ${module}@${version} failed: ${build.stderr}`);
  await Deno.rename(tmp, target);
  opts.log(`built ${name} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return target;
}

async function ensureIperf3(log: (line: string) => void): Promise<string | undefined> {
  const found = await which("iperf3");
  if (found !== undefined) return found;
  log("iperf3 missing: apt-get install -y iperf3");
  const res = await run("apt-get", ["install", "-y", "iperf3"], {
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).catch((e: unknown) => ({ ok: false, stdout: "", stderr: String(e) }));
  if (!res.ok) {
    log(`iperf3 could not be installed (loopback limit not measured): ${firstLine(res.stderr)}`);
    return undefined;
  }
  return await which("iperf3");
}

async function which(cmd: string): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir !== "" && await isFile(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return undefined;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

export interface RunResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

export async function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<RunResult> {
  const out = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(opts.env === undefined ? {} : { env: opts.env }),
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
  }).output();
  const dec = new TextDecoder();
  return { ok: out.success, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

export function firstLine(s: string): string {
  return s.trim().split("\n")[0] ?? "";
}
