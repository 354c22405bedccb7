/**
 * Starts the real Shale server for end-to-end tests: `deno run` of main.ts with the same flags as
 * `deno task shale`, on 127.0.0.1 with an ephemeral port, over temp drive folders. Shared by every
 * client suite (AWS SDK, aws CLI, boto3, rclone, s3cmd, minio-js).
 *
 *   const s = await startServer({ drives: 4 });
 *   ... s.endpoint, s.accessKey, s.secretKey, s.region, s.drivePaths ...
 *   await s.stop();   // SIGTERM, wait for exit 0, remove the temp folders
 *
 * Set SHALE_TEST_LOG=1 to see the server's output. Set SHALE_TEST_MAIN=<file> to run every e2e suite
 * against another entry point, e.g. the bundle that compile.sh compiles (`scripts/bundle.sh
 * /tmp/b && SHALE_TEST_MAIN=/tmp/b/main.js deno task test tests/`).
 *
 * The server gets an empty temp --certs-dir unless `certsDir` is given (then it speaks HTTPS when
 * the folder holds public.crt / private.key, and `endpoint` says https).
 */

export interface StartServerOptions {
  /** Number of drive folders (default 4: EC:2). */
  drives?: number;
  /** Extra environment for the server (SHALE_REGION, SHALE_DOMAIN, ...). */
  env?: Record<string, string>;
  /** Reuse these drive paths instead of making new ones (restart tests). */
  drivePaths?: string[];
  /** Keep the temp folders when stopping (restart tests remove them themselves). */
  keepData?: boolean;
  /**
   * "env" (default): root credentials come from SHALE_ROOT_USER / SHALE_ROOT_PASSWORD.
   * "generated": none in the environment; the server generates (or reuses) and prints a pair,
   * which the returned accessKey / secretKey hold.
   */
  credentials?: "env" | "generated";
  /** Extra command-line arguments after the drives (e.g. "--access-log"). */
  args?: string[];
  /** The --certs-dir to pass (default: an empty temp folder, so plain HTTP). */
  certsDir?: string;
  /**
   * A command the server runs under, ending where deno's command line starts (e.g. `setpriv
   * ... --`); it must exec deno in its own process, so that signals reach the server.
   */
  runUnder?: string[];
  /** The entry point to run (default: SHALE_TEST_MAIN, else main.ts). */
  main?: string;
}

export interface TestServer {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** The drive folders, in order. */
  drivePaths: string[];
  /** Everything the server printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM and wait for a clean exit; resolves with the exit code. */
  stop(): Promise<number>;
  /** SIGKILL (a crash); resolves when the process is gone. */
  kill(): Promise<void>;
  /** Sends a signal and returns at once (shutdown tests). */
  signal(signal: Deno.Signal): void;
  /** Resolves with the exit code when the process ends (does not clean up: call stop()). */
  exited: Promise<number>;
  /** The process id. */
  pid: number;
}

const MAIN = Deno.env.get("SHALE_TEST_MAIN") ?? new URL("../main.ts", import.meta.url).pathname;
const START_TIMEOUT_MS = 60_000;

/** The permission and unstable flags of `deno task shale` (deno.json). */
async function shalePermissions(): Promise<string[]> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  ) as { tasks: Record<string, string> };
  return String(config.tasks.shale).split(" ").filter((a) =>
    a.startsWith("--allow") || a.startsWith("--unstable")
  );
}

export async function startServer(opts: StartServerOptions = {}): Promise<TestServer> {
  const count = opts.drives ?? 4;
  let root: string | undefined;
  let drivePaths = opts.drivePaths;
  let driveArgs: string[];
  if (drivePaths === undefined) {
    root = await Deno.makeTempDir({ prefix: "shale-e2e-" });
    drivePaths = Array.from({ length: count }, (_, i) => `${root}/disk${i + 1}`);
    // Exercise the ellipsis syntax as users type it.
    driveArgs = count === 1 ? [`${root}/disk1`] : [`${root}/disk{1...${count}}`];
  } else {
    driveArgs = drivePaths;
  }
  const generated = opts.credentials === "generated";
  let accessKey = opts.env?.SHALE_ROOT_USER ?? "shaletestadmin";
  let secretKey = opts.env?.SHALE_ROOT_PASSWORD ?? "shale-test-secret-key";
  const region = opts.env?.SHALE_REGION ?? "us-east-1";
  const emptyCerts = opts.certsDir === undefined
    ? await Deno.makeTempDir({ prefix: "shale-e2e-certs-" })
    : undefined;
  const under = opts.runUnder ?? [];
  const child = new Deno.Command(under[0] ?? Deno.execPath(), {
    args: [
      ...(under.length > 0 ? [...under.slice(1), Deno.execPath()] : []),
      "run",
      ...await shalePermissions(),
      opts.main ?? MAIN,
      "server",
      ...driveArgs,
      "--address",
      "127.0.0.1:0",
      "--certs-dir",
      opts.certsDir ?? emptyCerts ?? "",
      ...(opts.args ?? []),
    ],
    // The runner's own SHALE_* / MINIO_* variables must not leak into the server under test.
    clearEnv: true,
    env: {
      ...Object.fromEntries(
        Object.entries(Deno.env.toObject()).filter(([k]) =>
          !k.startsWith("SHALE_") && !k.startsWith("MINIO_")
        ),
      ),
      ...(generated ? {} : { SHALE_ROOT_USER: accessKey, SHALE_ROOT_PASSWORD: secretKey }),
      NO_COLOR: "1",
      ...opts.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let log = "";
  const echo = Deno.env.get("SHALE_TEST_LOG") === "1";
  let onLine: ((line: string) => void) | undefined;
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let pending = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      log += text;
      if (echo) Deno.stderr.writeSync(new TextEncoder().encode(text));
      pending += text;
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        onLine?.(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    }
  };
  // Keep draining both pipes for the server's whole life so it never blocks on a full pipe.
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);

  let scheme = "http";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Server did not start:\n${log}`)),
      START_TIMEOUT_MS,
    );
    onLine = (line) => {
      if (!line.startsWith("{")) return;
      try {
        const rec = JSON.parse(line) as { message?: string; port?: number; endpoint?: string };
        if (rec.message === "Listening" && typeof rec.port === "number") {
          if (rec.endpoint?.startsWith("https:")) scheme = "https";
          clearTimeout(timer);
          resolve(rec.port);
        }
      } catch { /* not a JSON line */ }
    };
    child.status.then(async (s) => {
      clearTimeout(timer);
      // The exit can be seen before the last lines are read from the pipes: read them all first.
      await pumps.catch(() => {});
      reject(new Error(`Server exited with code ${s.code} before listening:\n${log}`));
    });
  });
  onLine = undefined;
  if (generated) {
    accessKey = /^RootUser: (\S+)$/m.exec(log)?.[1] ?? "";
    secretKey = /^RootPass: (\S+)$/m.exec(log)?.[1] ?? "";
  }

  const cleanup = async () => {
    await pumps.catch(() => {});
    if (root !== undefined && !opts.keepData) await Deno.remove(root, { recursive: true });
    if (emptyCerts !== undefined) await Deno.remove(emptyCerts, { recursive: true });
  };
  let stopped: Promise<number> | undefined;
  /** A server that died of an uncaught error fails the test that ran it, whatever it asserted. */
  const checkNoUncaught = () => {
    const at = log.search(/^error: Uncaught/m);
    if (at >= 0) {
      throw new Error(`The server died of an uncaught error:\n${log.slice(at, at + 4000)}`);
    }
  };
  return {
    endpoint: `${scheme}://127.0.0.1:${port}`,
    accessKey,
    secretKey,
    region,
    drivePaths,
    output: () => log,
    stop() {
      stopped ??= (async () => {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        const status = await child.status;
        await cleanup();
        checkNoUncaught();
        return status.code;
      })();
      return stopped;
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      await cleanup();
      checkNoUncaught();
    },
    signal(signal) {
      child.kill(signal);
    },
    exited: child.status.then((s) => s.code),
    pid: child.pid,
  };
}

/** `shale admin ARGS...` as a separate process against `server`, as an operator runs it. */
export async function shaleAdmin(
  server: TestServer,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "admin", ...args],
    env: {
      SHALE_ENDPOINT: server.endpoint,
      SHALE_ROOT_USER: server.accessKey,
      SHALE_ROOT_PASSWORD: server.secretKey,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}
