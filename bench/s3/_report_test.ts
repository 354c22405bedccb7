import assert from "node:assert/strict";
import { median, ratio, rowsFor, toTsv, TSV_HEADER } from "./_report.ts";
import type { RunOutcome, Workload } from "./_warp.ts";

const getWorkload: Workload = {
  name: "get",
  command: "get",
  op: "GET",
  size: "1MiB",
  concurrency: 8,
  movesData: true,
  args: [],
  quickArgs: [],
};

function ok(mibPerSec: number, p50Ms: number, rssMiB: number): RunOutcome {
  return {
    ok: true,
    mibPerSec,
    objectsPerSec: mibPerSec,
    measured: true,
    latency: { GET: { p50Ms, p99Ms: p50Ms * 3 } },
    errors: 0,
    firstError: undefined,
    peakRssBytes: rssMiB * 1024 * 1024,
  };
}

Deno.test("median takes the middle value, or the mean of the two middle values", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), undefined);
});

Deno.test("ratio is above 1 when Shale does better, whichever way the metric points", () => {
  assert.equal(ratio(200, 100, true), 2);
  assert.equal(ratio(5, 10, false), 2);
  assert.equal(ratio(100, 0, true), undefined);
  assert.equal(ratio(undefined, 10, false), undefined);
});

Deno.test("a workload becomes one row per metric holding the medians of the rounds", () => {
  const rows = rowsFor({
    workload: getWorkload,
    runs: {
      shale: [ok(300, 2, 100), ok(100, 4, 120), ok(200, 3, 110)],
      minio: [ok(100, 6, 400), ok(100, 6, 420), ok(100, 6, 410)],
    },
  });
  const byMetric = new Map(rows.map((r) => [r[3], r]));
  assert.deepEqual(byMetric.get("MiB/s"), ["get", "1MiB", "8", "MiB/s", "200", "100", "2.00"]);
  assert.deepEqual(byMetric.get("p50 ms"), ["get", "1MiB", "8", "p50 ms", "3.00", "6.00", "2.00"]);
  assert.deepEqual(byMetric.get("p99 ms"), ["get", "1MiB", "8", "p99 ms", "9.00", "18.0", "2.00"]);
  assert.deepEqual(byMetric.get("peak RSS MiB"), [
    "get",
    "1MiB",
    "8",
    "peak RSS MiB",
    "110",
    "410",
    "3.73",
  ]);
  assert.equal(rows.every((r) => r.length === TSV_HEADER.length), true);
});

Deno.test("a failed round turns that server's cells into its first error, with no ratio", () => {
  const rows = rowsFor({
    workload: getWorkload,
    runs: {
      shale: [ok(100, 2, 100), { ok: false, error: "Unable to upload\tobjects\nstack" }],
      minio: [ok(100, 6, 400)],
    },
  });
  for (const r of rows) {
    assert.equal(r[4], "error: Unable to upload objects");
    assert.equal(r[6], "-");
  }
});

Deno.test("a server left out with --only shows a dash", () => {
  const rows = rowsFor({ workload: getWorkload, runs: { shale: [ok(50, 1, 10)], minio: [] } });
  assert.equal(rows.every((r) => r[5] === "-" && r[6] === "-"), true);
});

Deno.test("request errors inside successful runs get their own row", () => {
  const withErrors = { ...ok(100, 2, 100), errors: 7, firstError: "SlowDown" } as RunOutcome;
  const rows = rowsFor({
    workload: getWorkload,
    runs: { shale: [withErrors], minio: [ok(100, 2, 100)] },
  });
  const last = rows.at(-1);
  assert.deepEqual(last, ["get", "1MiB", "8", "request errors", "7 (SlowDown)", "0", "-"]);
  assert.equal(toTsv([TSV_HEADER]), TSV_HEADER.join("\t") + "\n");
});
