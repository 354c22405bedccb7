/**
 * Start-to-ready time of `shale server --dev`: from process spawn until the server has printed its
 * "Listening" line and /minio/health/live answers 200. Goal (issue 6): under 100 ms. Runs
 * `deno run` with `deno task shale`'s flags (compile.sh's, checked by tests/systemd_test.ts; a
 * compiled binary cannot be built here: denort cannot be downloaded), and as a baseline the same
 * `deno run` of a script that only serves 200, so the figure splits into Deno's own start and
 * Shale's.
 *
 *   deno run -A bench/startup_bench.ts [runs]     (default 10 runs each)
 *   deno run -A bench/startup_bench.ts [runs] --compare <checkout>
 *
 * `--compare` also starts another checkout's main.ts (say `git archive <commit> | tar -x -C dir`),
 * or the main.js of a bundle folder (`scripts/bundle.sh <dir>` in that checkout),
 * interleaved run by run with this one, so that a before/after pair sees the same machine load.
 *
 * Every run also starts the bundle compile.sh compiles (scripts/bundle.sh's main.js, "[bundle]"),
 * the closest this machine gets to the compiled binary's start.
 *
 * Each run uses a fresh working directory, so `./data/dev` is formatted every time (the cold case);
 * a second start on the same folder (the warm case, the figure issue 6 asks for) is measured too.
 *
 * Besides wall time it prints, per start:
 * - CPU: the child's CPU time over all its threads (Linux /proc/<pid>/task/<tid>/schedstat), read
 *   once it is ready. On a shared, loaded machine wall time swings with other processes; CPU time
 *   much less, so compare CPU figures between runs made at different times.
 * - Phases: the `startup` field of the "Listening" line (main.ts): `modulesMs` is loading and
 *   evaluating the module graph (from the runtime's start to main.ts's body), the rest are
 *   main.ts's own steps.
 * The bench waits for the child's stdout line rather than polling the port, so that it takes no
 * CPU from the child while it starts (on 2 cores a 1 ms poll loop does).
 */
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const compareAt = Deno.args.indexOf("--compare");
const compareDir = compareAt >= 0 ? Deno.args[compareAt + 1] : undefined;
if (compareAt >= 0 && compareDir === undefined) throw new Error("--compare needs a checkout");
const runs = Number(
  Deno.args.find((a, i) => (compareAt < 0 || i !== compareAt + 1) && /^\d+$/.test(a)) ?? 10,
);

async function shaleFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  return String(config.tasks.shale).split(" ").filter((a: string) => a.startsWith("--"));
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** CPU time of every thread of `pid` so far, in ms; NaN where /proc is not Linux's. */
function cpuMs(pid: number): number {
  try {
    let ns = 0;
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const fields = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ");
      ns += Number(fields[0]);
    }
    return ns / 1e6;
  } catch {
    return NaN;
  }
}

interface Start {
  wallMs: number;
  cpuMs: number;
  phases: Record<string, number>;
}

/**
 * Spawns `args` in `cwd`, waits for its "Listening" line on stdout, checks /minio/health/live
 * answers 200, and returns the time taken with the child's CPU time and reported phases.
 */
async function timeToReady(args: string[], cwd: string, port: number): Promise<Start> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let result: Start | undefined;
  let seen = "";
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let pending = "";
    reading: for (;;) {
      const { done, value } = await lines.read();
      if (done) break;
      pending += value;
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        seen += line + "\n";
        if (!line.includes('"message":"Listening"')) continue;
        const r = await fetch(`http://127.0.0.1:${port}/minio/health/live`);
        await r.body?.cancel();
        if (r.status !== 200) throw new Error(`Health answered ${r.status}`);
        const wallMs = performance.now() - started;
        const phases = (JSON.parse(line).startup ?? {}) as Record<string, number>;
        result = { wallMs, cpuMs: cpuMs(child.pid), phases };
        break reading;
      }
    }
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* it exited by itself: reported below */ }
    // Keep draining stdout so that the child never blocks writing its shutdown lines.
    const drain = (async () => {
      while (!(await lines.read()).done) { /* discard */ }
    })();
    await child.status;
    await drain;
  }
  if (result === undefined) {
    throw new Error(`Not ready (exit ${(await child.status).code}):\n${seen}${await stderr}`);
  }
  await stderr;
  return result;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? NaN;

function summary(name: string, starts: Start[]): string {
  const wall = starts.map((s) => s.wallMs).sort((a, b) => a - b);
  return `${name.padEnd(42)} wall min ${wall[0]?.toFixed(1)}  median ${
    median(wall).toFixed(1)
  }  max ${wall[wall.length - 1]?.toFixed(1)} ms; CPU median ${
    median(starts.map((s) => s.cpuMs)).toFixed(1)
  } ms  (${starts.length} runs)`;
}

function phaseSummary(starts: Start[]): string {
  const names = Object.keys(starts[0]?.phases ?? {});
  return names.map((n) =>
    `${n.replace(/Ms$/, "")} ${median(starts.map((s) => s.phases[n] ?? NaN)).toFixed(1)}`
  )
    .join(", ");
}

const flags = await shaleFlags();
const root = await Deno.makeTempDir({ prefix: "shale-startup-" });
const baselineScript = `${root}/baseline.ts`;
await Deno.writeTextFile(
  baselineScript,
  `Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.args[0]), ` +
    `onListen() { console.log(JSON.stringify({ message: "Listening" })); } }, ` +
    `() => new Response(null));\n`,
);
interface Target {
  name: string;
  main: string;
  cold: Start[];
  again: Start[];
}
// What compile.sh compiles: scripts/bundle.sh's folder, started the same way.
const bundleDir = `${root}/bundle`;
const bundled = await new Deno.Command("sh", {
  args: [new URL("../scripts/bundle.sh", import.meta.url).pathname, bundleDir],
  env: { DENO: Deno.execPath() },
}).output();
if (bundled.code !== 0) throw new Error(new TextDecoder().decode(bundled.stderr));
const targets: Target[] = [
  { name: "", main: MAIN, cold: [], again: [] },
  { name: " [bundle]", main: `${bundleDir}/main.js`, cold: [], again: [] },
];
if (compareDir !== undefined) {
  // A checkout's main.ts, or a bundle folder's main.js (scripts/bundle.sh of another commit).
  const main = [`${compareDir}/main.ts`, `${compareDir}/main.js`].find((f) => {
    try {
      return Deno.statSync(f).isFile;
    } catch {
      return false;
    }
  });
  if (main === undefined) throw new Error(`No main.ts or main.js in ${compareDir}`);
  targets.push({ name: ` [${compareDir}]`, main, cold: [], again: [] });
}
const shale = (main: string, port: number) => [
  "run",
  ...flags,
  main,
  "server",
  "--dev",
  "--address",
  `127.0.0.1:${port}`,
];
try {
  // One untimed start fills caches (module graph, emit and V8 code caches, npm resolution) as a
  // long-lived host would have them; the same for the baseline.
  let port;
  for (const t of targets) {
    const warm = `${root}/warmup${targets.indexOf(t)}`;
    await Deno.mkdir(warm);
    port = freePort();
    await timeToReady(shale(t.main, port), warm, port);
  }
  port = freePort();
  await timeToReady(["run", "--allow-net", baselineScript, String(port)], root, port);
  const baseline: Start[] = [];
  for (let i = 0; i < runs; i++) {
    for (const t of targets) {
      const cwd = `${root}/run${i}-${targets.indexOf(t)}`;
      await Deno.mkdir(cwd);
      for (const list of [t.cold, t.again]) {
        port = freePort();
        list.push(await timeToReady(shale(t.main, port), cwd, port));
      }
    }
    port = freePort();
    baseline.push(
      await timeToReady(["run", "--allow-net", baselineScript, String(port)], root, port),
    );
  }
  for (const t of targets) {
    console.log(summary(`shale server --dev, fresh ./data/dev${t.name}`, t.cold));
    console.log(summary(`shale server --dev, existing ./data/dev${t.name}`, t.again));
  }
  console.log(summary("baseline: deno run of a bare Deno.serve", baseline));
  for (const t of targets) {
    console.log(`phases, fresh ./data/dev${t.name} (median ms):    ${phaseSummary(t.cold)}`);
    console.log(`phases, existing ./data/dev${t.name} (median ms): ${phaseSummary(t.again)}`);
  }
  for (const t of targets) {
    console.log(
      `Shale's own start${t.name} (median, existing drive, minus baseline): wall ${
        (median(t.again.map((s) => s.wallMs)) - median(baseline.map((s) => s.wallMs))).toFixed(1)
      } ms, CPU ${
        (median(t.again.map((s) => s.cpuMs)) - median(baseline.map((s) => s.cpuMs))).toFixed(1)
      } ms; goal: start-to-ready under 100 ms`,
    );
  }
} finally {
  await Deno.remove(root, { recursive: true });
}
