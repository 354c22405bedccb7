import assert from "node:assert/strict";
import { LocalLocker } from "./locker.ts";

const tick = () => new Promise((r) => setTimeout(r, 1));

Deno.test("readers share a lock, a writer waits for them and excludes everyone", async () => {
  const l = new LocalLocker();
  const events: string[] = [];
  const r1 = await l.lock("k", "read");
  const r2 = await l.lock("k", "read");
  const w = l.lock("k", "write").then((u) => {
    events.push("w");
    return u;
  });
  // A reader arriving after a waiting writer queues behind it (no writer starvation).
  const r3 = l.lock("k", "read").then((u) => {
    events.push("r3");
    return u;
  });
  await tick();
  assert.deepEqual(events, []);
  r1();
  await tick();
  assert.deepEqual(events, []);
  r2();
  const unlockW = await w;
  await tick();
  assert.deepEqual(events, ["w"]);
  unlockW();
  (await r3)();
  assert.deepEqual(events, ["w", "r3"]);
  assert.equal(l.size, 0, "no state is kept for free resources");
});

Deno.test("locks on different resources do not interact and unlock twice is harmless", async () => {
  const l = new LocalLocker();
  const a = await l.lock("a", "write");
  const b = await l.lock("b", "write");
  a();
  a();
  b();
  const again = await l.lock("a", "write");
  again();
  assert.equal(l.size, 0);
});
