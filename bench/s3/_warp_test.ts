// Reads outputs of real warp v1.3.1 runs against MinIO, kept in testdata/ (capture.sh made them).
import assert from "node:assert/strict";
import { outcomeOf, parseWarpJson, summarise, warpArgs, warpFailure, WORKLOADS } from "./_warp.ts";

const dir = new URL("./testdata/", import.meta.url);
const read = (name: string) => Deno.readTextFileSync(new URL(name, dir));

Deno.test("a measured get run gives MiB/s equal to objects/s for 1 MiB objects", () => {
  const text = read("warp-v1.3.1-get-1MiB.out");
  const raw = parseWarpJson(text);
  const s = summarise(raw);
  assert.equal(s.measured, true);
  assert.ok(s.objectsPerSec > 0);
  assert.ok(Math.abs(s.mibPerSec - s.objectsPerSec) < 1e-9 * s.objectsPerSec + 1e-9);
  // The rate is the measured window's, not the whole run's.
  const t = raw.total.throughput;
  assert.equal(s.objectsPerSec, t.objects / (t.measure_duration_millis / 1000));
  assert.deepEqual(Object.keys(s.latency), ["GET"]);
  const get = s.latency["GET"];
  assert.ok(get !== undefined && get.p50Ms > 0 && get.p50Ms <= get.p99Ms);
  assert.equal(s.errors, 0);
});

Deno.test("a run too short for a measured window falls back to whole-run totals", () => {
  const raw = parseWarpJson(read("warp-v1.3.1-mixed-4KiB-short.out"));
  const s = summarise(raw);
  assert.equal(s.measured, false);
  const secs = (Date.parse(raw.total.end_time) - Date.parse(raw.total.start_time)) / 1000;
  assert.equal(s.objectsPerSec, raw.total.total_objects / secs);
  assert.ok(Math.abs(s.mibPerSec * 1024 * 1024 - raw.total.total_bytes / secs) < 1e-6);
  assert.deepEqual(Object.keys(s.latency).sort(), ["DELETE", "GET", "PUT", "STAT"]);
});

Deno.test("a fatal warp error becomes one line naming what failed and why", () => {
  const text = read("warp-v1.3.1-fatal.out");
  assert.equal(
    warpFailure(text),
    "Error preparing server: The request signature we calculated does not match the signature " +
      "you provided. Check your key and signing method.",
  );
  const o = outcomeOf({ ok: false, stdout: "", stderr: text, timedOut: false }, 1000);
  assert.equal(o.ok, false);
  assert.match(o.ok ? "" : o.error, /^Error preparing server: The request signature/);
  const t = outcomeOf({ ok: false, stdout: "", stderr: "", timedOut: true }, 90_000);
  assert.deepEqual(t, { ok: false, error: "warp killed after 90 s" });
});

Deno.test("output without a JSON report is an error outcome, not an exception", () => {
  const o = outcomeOf({
    ok: true,
    stdout: "Pausing before benchmark\n",
    stderr: "",
    timedOut: false,
  }, 1);
  assert.deepEqual(o, {
    ok: false,
    error: "No JSON report in warp output: Pausing before benchmark",
  });
});

Deno.test("every workload gets fixed size, concurrency and duration flags, parts for multipart", () => {
  const target = { host: "127.0.0.1:9", accessKey: "a", secretKey: "b" };
  const opts = { warp: "warp", quick: true, durationSeconds: 4, workDir: "/tmp", timeoutMs: 1 };
  for (const w of WORKLOADS) {
    const args = warpArgs(w, target, opts);
    assert.equal(args[0], w.command);
    const flag = w.command === "multipart-put" ? "--part.size" : "--obj.size";
    assert.equal(args[args.indexOf(flag) + 1], w.size);
    assert.equal(args[args.indexOf("--concurrent") + 1], String(w.concurrency));
    assert.equal(args[args.indexOf("--duration") + 1], "4s");
    assert.ok(args.includes("--json"));
  }
  const names = new Set(WORKLOADS.map((w) => `${w.name} ${w.size}`));
  for (
    const want of ["get 64MiB", "get 1MiB", "put 64MiB", "put 1MiB", "mixed 4KiB", "list 1KiB"]
  ) {
    assert.ok(names.has(want), want);
  }
});

Deno.test("naming the workload's operation keeps only that operation's rates and latency", () => {
  const get = parseWarpJson(read("warp-v1.3.1-get-1MiB.out"));
  assert.deepEqual(summarise(get, "GET"), summarise(get));
  const mixed = parseWarpJson(read("warp-v1.3.1-mixed-4KiB-short.out"));
  const s = summarise(mixed, "GET");
  assert.deepEqual(Object.keys(s.latency), ["GET"]);
  const agg = mixed.by_op_type?.["GET"];
  assert.ok(agg !== undefined);
  const secs = (Date.parse(agg.end_time) - Date.parse(agg.start_time)) / 1000;
  assert.equal(s.objectsPerSec, agg.total_objects / secs);
  assert.ok(s.objectsPerSec < summarise(mixed).objectsPerSec);
});
