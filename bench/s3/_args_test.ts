import assert from "node:assert/strict";
import { parseBenchArgs } from "./_args.ts";

Deno.test("no flags means both servers, every workload, three rounds", () => {
  const a = parseBenchArgs([]);
  assert.deepEqual(a.servers, ["shale", "minio"]);
  assert.deepEqual(a.workloads, []);
  assert.equal(a.rounds, 3);
  assert.equal(a.quick, false);
  assert.equal(a.durationSeconds, undefined);
});

Deno.test("development flags select one server and some workloads", () => {
  const a = parseBenchArgs(["--quick", "--only", "minio", "--workloads=get, put", "--rounds", "1"]);
  assert.deepEqual(a.servers, ["minio"]);
  assert.deepEqual(a.workloads, ["get", "put"]);
  assert.equal(a.rounds, 1);
  assert.equal(a.quick, true);
});

Deno.test("rejects fewer than three rounds when both servers are compared", () => {
  assert.throws(() => parseBenchArgs(["--rounds", "2"]), /at least 3/);
});

Deno.test("rejects an unknown server, flag or a non-numeric duration", () => {
  assert.throws(() => parseBenchArgs(["--only", "ceph"]), /"shale" or "minio"/);
  assert.throws(() => parseBenchArgs(["--fast"]), /Unknown flag "--fast"/);
  assert.throws(() => parseBenchArgs(["--duration", "10s"]), /positive integer/);
  assert.throws(() => parseBenchArgs(["--only"]), /needs a value/);
});
