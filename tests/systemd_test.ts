import { equal } from "node:assert/strict";

const UNIT = new URL("../systemd/shale.service", import.meta.url);

Deno.test("systemd-analyze verify accepts the unit file", async () => {
  // verify insists that ExecStart's binary exists: point the unit at a stand-in executable.
  const dir = await Deno.makeTempDir({ prefix: "shale-systemd-" });
  try {
    const bin = `${dir}/shale`;
    await Deno.writeTextFile(bin, "#!/bin/sh\n");
    await Deno.chmod(bin, 0o755);
    const unit = (await Deno.readTextFile(UNIT)).replaceAll("/usr/local/bin/shale", bin);
    await Deno.writeTextFile(`${dir}/shale.service`, unit);
    const out = await new Deno.Command("systemd-analyze", {
      args: ["verify", `${dir}/shale.service`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    equal(out.code, 0, text);
    equal(text.trim(), "", `systemd-analyze printed warnings:\n${text}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compile.sh grants exactly the permissions of `deno task shale`", async () => {
  const script = await Deno.readTextFile(new URL("../compile.sh", import.meta.url));
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const compilePerms = script.match(/^PERMISSIONS="([^"]*)"/m)?.[1]?.split(" ").sort();
  const taskPerms = String(config.tasks.shale).split(" ").filter((a) => a.startsWith("--allow"))
    .sort();
  equal(JSON.stringify(compilePerms), JSON.stringify(taskPerms));
  equal(compilePerms?.includes("--allow-all"), false);
  const compileLine = script.split("\n").find((l) => l.trim().startsWith("deno compile")) ?? "";
  equal(compileLine.includes("$PERMISSIONS $INCLUDES"), true, compileLine);
  // It compiles scripts/bundle.sh's folder and embeds all of it (the WebAssembly core and the MD5
  // worker are read from next to main.js); tests/e2e_bundle_test.ts runs that folder.
  equal(/^BUNDLE=\$\{BUNDLE:-build\/bundle\}$/m.test(script), true);
  equal(/^INCLUDES="--include \$BUNDLE\/"$/m.test(script), true);
  equal(/^SHALE_VERSION="\$VERSION" scripts\/bundle.sh "\$BUNDLE"$/m.test(script), true);
  equal(compileLine.trim().endsWith('"$BUNDLE/main.js"'), true, compileLine);
});

Deno.test({
  name: "compile.sh runs to the end: bundle, type-check setting, includes and deno compile",
  // DENORT_BIN must be a runtime for the target: this machine's deno only stands in on Linux.
  ignore: Deno.build.os !== "linux",
}, async () => {
  // denort cannot be downloaded here; this machine's deno binary stands in as DENORT_BIN, so the
  // output runs as plain deno, but everything compile.sh does before that is real: the bundle, the
  // version stamp, the flags, the graph and the embedded folder (it failed on the bundle's type
  // check before --no-check).
  const dir = await Deno.makeTempDir({ prefix: "shale-compile-" });
  try {
    const target = `${Deno.build.arch}-unknown-linux-gnu`;
    const out = await new Deno.Command("sh", {
      args: [new URL("../compile.sh", import.meta.url).pathname],
      env: {
        DENORT_BIN: Deno.execPath(),
        TARGETS: target,
        DIST: `${dir}/dist`,
        BUNDLE: `${dir}/bundle`,
        PATH: `${Deno.execPath().replace(/\/[^/]*$/, "")}:${Deno.env.get("PATH") ?? ""}`,
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    equal(out.code, 0, text);
    const built = [...Deno.readDirSync(`${dir}/dist`)].map((e) => e.name);
    equal(built.length, 1, built.join(" "));
    equal(built[0]!.startsWith("shale-") && built[0]!.endsWith(`-${target}`), true, built[0]);
    // The runtime plus the embedded bundle (main.js and chunks, the .wasm files, the worker).
    const size = (await Deno.stat(`${dir}/dist/${built[0]}`)).size;
    const runtime = (await Deno.stat(Deno.execPath())).size;
    equal(size > runtime + 1_000_000, true, `${size} bytes, runtime ${runtime}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every variable the sample /etc/default/shale shows is one the server reads", async () => {
  const { SERVER_HELP } = await import("../src/config/cli.ts");
  const sample = await Deno.readTextFile(new URL("../systemd/shale.default", import.meta.url));
  const unit = await Deno.readTextFile(UNIT);
  const names = new Set(sample.match(/\bSHALE_[A-Z0-9_]+(?==)/g) ?? []);
  equal(names.size > 5, true, [...names].join(" "));
  for (const name of names) {
    // SHALE_VOLUMES and SHALE_OPTS are the unit's own: its ExecStart line spells them out.
    const known = SERVER_HELP.includes(name) || unit.includes(`$${name}`);
    equal(known, true, `${name} is neither in \`shale server --help\` nor in the unit`);
  }
});
