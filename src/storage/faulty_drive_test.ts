import assert from "node:assert/strict";
import { describeDriveConformance } from "./drive_conformance.ts";
import { DriveOffline } from "./drive.ts";
import { FaultyDrive } from "./faulty_drive.ts";
import { FsDrive } from "./fs_drive.ts";
import { MemoryDrive } from "./memory_drive.ts";

const SEED = Number(Deno.env.get("SHALE_SEED") ?? Date.now() % 1_000_000);
console.log(`faulty_drive_test seed ${SEED} (replay with SHALE_SEED=${SEED})`);

describeDriveConformance({
  name: "FaultyDrive over MemoryDrive, faults off",
  make() {
    const drive = new FaultyDrive(new MemoryDrive("mem://f"), { seed: SEED });
    return Promise.resolve({ drive, cleanup: () => Promise.resolve() });
  },
});

describeDriveConformance({
  name: "FaultyDrive over FsDrive, faults off",
  async make() {
    const dir = await Deno.makeTempDir({ prefix: "shale-faulty-" });
    const drive = new FaultyDrive(new FsDrive(dir), { seed: SEED });
    return { drive, cleanup: () => Deno.remove(dir, { recursive: true }) };
  },
});

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("an I/O error or a full drive fails the call with DriveOffline and counts it", async () => {
  const d = new FaultyDrive(new MemoryDrive("mem://f"), { seed: SEED, rates: { ioError: 1 } });
  await assert.rejects(() => d.writeFile("a", enc("x")), DriveOffline);
  await assert.rejects(() => d.list(""), DriveOffline);
  assert.equal(d.counts.ioError, 2);
  d.rates = { noSpace: 1 };
  await assert.rejects(() => d.writeFile("a", enc("x")), /ENOSPC/);
  assert.equal(await d.stat("a"), undefined, "nothing stored on ENOSPC");
});

Deno.test("a torn write leaves a prefix of the new bytes and throws", async () => {
  const d = new FaultyDrive(new MemoryDrive("mem://f"), { seed: SEED, rates: { tornWrite: 1 } });
  const data = enc("0123456789abcdef");
  await assert.rejects(() => d.writeFile("a", data), /torn write/);
  d.rates = {};
  const got = await d.readFile("a", 100);
  assert.ok(got.length < data.length);
  assert.deepEqual(got, data.subarray(0, got.length));
});

Deno.test("a short write silently stores only a prefix of its chunk", async () => {
  const d = new FaultyDrive(new MemoryDrive("mem://f"), { seed: SEED, rates: { shortWrite: 1 } });
  const w = await d.createFile("t/part.1");
  await w.write(enc("0123456789"));
  await w.close();
  assert.ok((await d.stat("t/part.1"))!.size < 10);
  assert.equal(d.counts.shortWrite, 1);
});

Deno.test("a lost fsync is undone by a crash: the file holds its old bytes again", async () => {
  const d = new FaultyDrive(new MemoryDrive("mem://f"), { seed: SEED });
  await d.writeFile("a", enc("old"));
  d.rates = { lostSync: 1 };
  await d.writeFile("a", enc("new"));
  await d.writeFile("b", enc("fresh"));
  const w = await d.createFile("tmp/x/part.1");
  await w.write(enc("shard"));
  await w.close();
  await d.rename("tmp/x", "k/~x");
  assert.equal(new TextDecoder().decode(await d.readFile("a", 10)), "new");
  assert.equal(await d.crash(), 3);
  d.rates = {};
  assert.equal(new TextDecoder().decode(await d.readFile("a", 10)), "old");
  assert.equal(await d.stat("b"), undefined);
  assert.equal(await d.stat("k/~x/part.1"), undefined, "the lost file moved with its directory");
});

Deno.test("a bit flip changes one bit of what is read, never what is stored", async () => {
  const d = new FaultyDrive(new MemoryDrive("mem://f"), { seed: SEED });
  const data = new Uint8Array(64).fill(0xa5);
  await d.writeFile("a", data);
  d.rates = { bitFlip: 1 };
  const got = await d.readFile("a", 100);
  let bits = 0;
  for (let i = 0; i < data.length; i++) {
    let x = got[i]! ^ data[i]!;
    while (x) {
      bits += x & 1;
      x >>= 1;
    }
  }
  assert.equal(bits, 1);
  d.rates = {};
  assert.deepEqual(await d.readFile("a", 100), data);
});

Deno.test("added latency delays every call", async () => {
  const d = new FaultyDrive(new MemoryDrive("mem://f"), {
    seed: SEED,
    rates: { latencyMs: [20, 30] },
  });
  const t = performance.now();
  await d.writeFile("a", enc("x"));
  assert.ok(performance.now() - t >= 19);
});

Deno.test("the same seed gives the same fault schedule", async () => {
  const run = async () => {
    const d = new FaultyDrive(new MemoryDrive("mem://f"), { seed: SEED, rates: { ioError: 0.5 } });
    const out: boolean[] = [];
    for (let i = 0; i < 64; i++) {
      out.push(await d.writeFile(`f${i}`, enc("x")).then(() => true, () => false));
    }
    return out;
  };
  assert.deepEqual(await run(), await run());
});
