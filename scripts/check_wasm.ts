/**
 * Rebuilds the committed .wasm files with clang-19 into a temp folder and fails on any byte
 * difference. Skips (and says so) when clang-19 is not installed.
 */
const root = new URL("../", import.meta.url).pathname;
const build = `${root}src/wasm/build.sh`;
try {
  Deno.statSync(build);
} catch {
  console.log("check:wasm skipped: src/wasm/build.sh does not exist yet");
  Deno.exit(0);
}
const which = await new Deno.Command("sh", { args: ["-c", "command -v clang-19"] }).output();
if (!which.success) {
  console.log("check:wasm skipped: clang-19 is not installed");
  Deno.exit(0);
}
const tmp = await Deno.makeTempDir({ prefix: "shale-wasm-" });
const res = await new Deno.Command("sh", {
  args: [build, tmp],
  stdout: "inherit",
  stderr: "inherit",
}).output();
if (!res.success) Deno.exit(1);
let bad = 0;
for await (const e of Deno.readDir(tmp)) {
  if (!e.name.endsWith(".wasm")) continue;
  const built = await Deno.readFile(`${tmp}/${e.name}`);
  let committed: Uint8Array;
  try {
    committed = await Deno.readFile(`${root}src/wasm/${e.name}`);
  } catch {
    console.error(`check:wasm: src/wasm/${e.name} is not committed`);
    bad++;
    continue;
  }
  if (built.length !== committed.length || built.some((b, i) => b !== committed[i])) {
    console.error(
      `check:wasm: src/wasm/${e.name} differs from a fresh build (run deno task build:wasm)`,
    );
    bad++;
  }
}
await Deno.remove(tmp, { recursive: true });
if (bad > 0) Deno.exit(1);
console.log("check:wasm ok");
