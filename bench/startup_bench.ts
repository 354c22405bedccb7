/**
 * Start-to-ready time of `shale server --dev`: from process spawn until /minio/health/live answers
 * 200. Goal (issue 6): under 100 ms. Runs `deno run` with `deno task shale`'s flags (a compiled
 * binary cannot be built here: denort cannot be downloaded), and as a baseline the same `deno run`
 * of a script that only serves 200, so the figure can be split into Deno's own start and Shale's.
 *
 *   deno run -A bench/startup_bench.ts [runs]     (default 10 runs each)
 *
 * Each run uses a fresh working directory, so `./data/dev` is formatted every time (the cold case);
 * a second start on the same folder (the warm case) is measured too.
 */
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const runs = Number(Deno.args[0] ?? 10);

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

/** Spawns `args` in `cwd` and polls the health URL until 200; returns the milliseconds taken. */
async function timeToReady(args: string[], cwd: string, port: number): Promise<number> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const url = `http://127.0.0.1:${port}/minio/health/live`;
  let ready = -1;
  const deadline = started + 30_000;
  while (performance.now() < deadline) {
    try {
      const r = await fetch(url);
      await r.body?.cancel();
      if (r.status === 200) {
        ready = performance.now() - started;
        break;
      }
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 1));
  }
  child.kill("SIGTERM");
  const status = await child.status;
  const err = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
  if (ready < 0) throw new Error(`Not ready within 30 s (exit ${status.code}):\n${err}`);
  return ready;
}

function summary(name: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)] ?? NaN;
  return `${name.padEnd(44)} min ${s[0]?.toFixed(1)} ms  median ${median.toFixed(1)} ms  ` +
    `max ${s[s.length - 1]?.toFixed(1)} ms  (${s.length} runs)`;
}

const flags = await shaleFlags();
const root = await Deno.makeTempDir({ prefix: "shale-startup-" });
const baselineScript = `${root}/baseline.ts`;
await Deno.writeTextFile(
  baselineScript,
  `Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.args[0]), onListen() {} }, ` +
    `() => new Response(null));\n`,
);
try {
  // One untimed start fills caches (module graph, npm resolution) as a long-lived host would be.
  const warm = `${root}/warmup`;
  await Deno.mkdir(warm);
  const warmPort = freePort();
  await timeToReady(
    ["run", ...flags, MAIN, "server", "--dev", "--address", `127.0.0.1:${warmPort}`],
    warm,
    warmPort,
  );
  const cold: number[] = [];
  const again: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < runs; i++) {
    const cwd = `${root}/run${i}`;
    await Deno.mkdir(cwd);
    for (const list of [cold, again]) {
      const port = freePort();
      list.push(
        await timeToReady(
          ["run", ...flags, MAIN, "server", "--dev", "--address", `127.0.0.1:${port}`],
          cwd,
          port,
        ),
      );
    }
    const port = freePort();
    baseline.push(
      await timeToReady(["run", "--allow-net", baselineScript, String(port)], root, port),
    );
  }
  console.log(summary("shale server --dev, fresh ./data/dev", cold));
  console.log(summary("shale server --dev, existing ./data/dev", again));
  console.log(summary("baseline: deno run of a bare Deno.serve", baseline));
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? NaN;
  console.log(
    `Shale's own start (median, existing drive, minus baseline): ${
      (med(again) - med(baseline)).toFixed(1)
    } ms; goal: start-to-ready under 100 ms`,
  );
} finally {
  await Deno.remove(root, { recursive: true });
}
