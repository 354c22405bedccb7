import assert from "node:assert/strict";
import { FAULT_CONTROL_POLL_MS } from "../config/limits.ts";
import { DriveOffline } from "./drive.ts";
import {
  failingSlots,
  FAULTY_DRIVES_ENV,
  FaultyDrivesError,
  faultyDrivesFromEnv,
  parseFaultyDrives,
  wrapFaultyDrives,
} from "./fault_switch.ts";
import { FaultyDrive } from "./faulty_drive.ts";
import { MemoryDrive } from "./memory_drive.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("parses the slots and the control file of SHALE_TEST_FAULTY_DRIVES", () => {
  assert.deepEqual(parseFaultyDrives("5,2, 5:/tmp/a:b", 6), {
    slots: [1, 4],
    controlFile: "/tmp/a:b",
  });
  for (const bad of ["", "2,5", "2,5:", ":/tmp/x", "0:/tmp/x", "7:/tmp/x", "2,x:/tmp/x"]) {
    assert.throws(() => parseFaultyDrives(bad, 6), FaultyDrivesError, bad);
  }
  assert.throws(
    () => parseFaultyDrives("9:/tmp/x", 6),
    /drive slot "9" is not a number from 1 to 6/,
  );
});

Deno.test("the control file's slots fail among the wrapped ones; empty means all of them", () => {
  assert.deepEqual(failingSlots("", [1, 4]), [1, 4]);
  assert.deepEqual(failingSlots(" \n", [1, 4]), [1, 4]);
  assert.deepEqual(failingSlots("5\n", [1, 4]), [4]);
  assert.deepEqual(failingSlots("2, 5 3", [1, 4]), [1, 4], "3 is not wrapped");
});

Deno.test("only the named slots are wrapped, and they fail with EIO only while switched on", async () => {
  const inner = Array.from({ length: 4 }, (_, i) => new MemoryDrive(`mem://${i + 1}`));
  const { drives, faults } = wrapFaultyDrives(inner, { slots: [1, 3], controlFile: "/unused" });
  assert.deepEqual(drives.map((d) => d instanceof FaultyDrive), [false, true, false, true]);
  for (const d of drives) await d.writeFile("a", enc("x"));
  faults.apply([3]);
  await assert.rejects(() => drives[3]!.readFile("a", 10), DriveOffline);
  await assert.rejects(() => drives[3]!.writeFile("b", enc("y")), /EIO \(injected\)/);
  assert.deepEqual(await drives[1]!.readFile("a", 10), enc("x"));
  faults.apply([1, 3]);
  await assert.rejects(() => drives[1]!.list(""), DriveOffline);
  faults.apply([]);
  for (const d of drives) assert.deepEqual(await d.readFile("a", 10), enc("x"));
  assert.equal(await drives[3]!.stat("b"), undefined, "a failed write stored nothing");
});

Deno.test("the running switch follows the control file: present fails, absent heals", async () => {
  const dir = await Deno.makeTempDir({ prefix: "shale-fault-switch-" });
  const control = `${dir}/faults`;
  const paths = [1, 2, 3].map((i) => `${dir}/d${i}`);
  const got = await faultyDrivesFromEnv(
    paths,
    (name) => name === FAULTY_DRIVES_ENV ? `2,3:${control}` : undefined,
  );
  assert.ok(got !== undefined);
  const { drives, faults } = got;
  const waitFor = async (want: number[]) => {
    const until = Date.now() + 50 * FAULT_CONTROL_POLL_MS;
    while (faults.failing.join() !== want.join()) {
      assert.ok(Date.now() < until, `still failing ${faults.failing}, want ${want}`);
      await new Promise((r) => setTimeout(r, FAULT_CONTROL_POLL_MS / 4));
    }
  };
  try {
    for (const d of drives) await d.init();
    await drives[2]!.writeFile("a", enc("x"));
    await Deno.writeTextFile(control, "3\n");
    await waitFor([2]);
    await assert.rejects(() => drives[2]!.readFile("a", 10), DriveOffline);
    await drives[1]!.writeFile("a", enc("x"));
    await Deno.writeTextFile(control, "");
    await waitFor([1, 2]);
    await assert.rejects(() => drives[1]!.readFile("a", 10), DriveOffline);
    await Deno.remove(control);
    await waitFor([]);
    assert.deepEqual(await drives[2]!.readFile("a", 10), enc("x"));
  } finally {
    await faults.stop();
    for (const d of drives) await d.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without SHALE_TEST_FAULTY_DRIVES the server's drives are its own", async () => {
  assert.equal(await faultyDrivesFromEnv(["/a", "/b"], () => undefined), undefined);
  await assert.rejects(
    () => faultyDrivesFromEnv(["/a"], () => "2:/tmp/x"),
    FaultyDrivesError,
  );
});

Deno.test("a control file present at start-up holds from the first call", async () => {
  const dir = await Deno.makeTempDir({ prefix: "shale-fault-switch-" });
  await Deno.writeTextFile(`${dir}/faults`, "1");
  const got = await faultyDrivesFromEnv([`${dir}/d1`], () => `1:${dir}/faults`);
  try {
    await assert.rejects(() => got!.drives[0]!.init(), DriveOffline);
  } finally {
    await got!.faults.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
