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
  equal(/^BUNDLE=build\/bundle$/m.test(script), true);
  equal(/^INCLUDES="--include \$BUNDLE\/"$/m.test(script), true);
  equal(/^scripts\/bundle.sh "\$BUNDLE"$/m.test(script), true);
  equal(compileLine.trim().endsWith('"$BUNDLE/main.js"'), true, compileLine);
});
