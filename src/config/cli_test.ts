import { deepEqual, equal, match, throws } from "node:assert/strict";
import { parseAddress, parseCommandLine, UsageError } from "./cli.ts";
import { credentialsFilePath, loadOrCreateRootCredentials } from "./credentials.ts";

const noEnv = (_: string) => undefined;
function envOf(vars: Record<string, string>) {
  return (name: string) => vars[name];
}

Deno.test("parses drives, address and defaults for `shale server`", () => {
  const cmd = parseCommandLine(
    ["server", "./data/disk{1...4}", "--address", "127.0.0.1:9000"],
    noEnv,
  );
  if (cmd.kind !== "server") throw new Error(cmd.kind);
  deepEqual(cmd.config.drives, [
    "./data/disk1",
    "./data/disk2",
    "./data/disk3",
    "./data/disk4",
  ]);
  deepEqual(cmd.config.address, { hostname: "127.0.0.1", port: 9000 });
  equal(cmd.config.region, "us-east-1");
  deepEqual(cmd.config.domains, []);
  equal(cmd.config.rootCredentials, undefined);
});

Deno.test("accepts flags before the drives and the --flag=value form", () => {
  const cmd = parseCommandLine(["server", "--address=:0", "/d{1...2}"], noEnv);
  if (cmd.kind !== "server") throw new Error(cmd.kind);
  deepEqual(cmd.config.address, { hostname: "0.0.0.0", port: 0 });
  deepEqual(cmd.config.drives, ["/d1", "/d2"]);
});

Deno.test("reads SHALE_* and MINIO_ROOT_* variables", () => {
  const cmd = parseCommandLine(
    ["server", "/d1"],
    envOf({
      MINIO_ROOT_USER: "admin",
      MINIO_ROOT_PASSWORD: "password1",
      SHALE_REGION: "eu-west-3",
      SHALE_STORAGE_CLASS_STANDARD: "EC:3",
      SHALE_STORAGE_CLASS_RRS: "EC:1",
      SHALE_DOMAIN: "s3.example.com, S3.Other.org",
    }),
  );
  if (cmd.kind !== "server") throw new Error(cmd.kind);
  deepEqual(cmd.config.rootCredentials, { accessKey: "admin", secretKey: "password1" });
  equal(cmd.config.region, "eu-west-3");
  equal(cmd.config.standardParity, 3);
  equal(cmd.config.reducedParity, 1);
  deepEqual(cmd.config.domains, ["s3.example.com", "s3.other.org"]);
});

Deno.test("rejects a root password under 8 characters and a lone root user", () => {
  throws(
    () =>
      parseCommandLine(
        ["server", "/d"],
        envOf({ SHALE_ROOT_USER: "admin", SHALE_ROOT_PASSWORD: "short" }),
      ),
    UsageError,
  );
  throws(() => parseCommandLine(["server", "/d"], envOf({ SHALE_ROOT_USER: "admin" })), UsageError);
});

Deno.test("rejects unknown flags, missing drives and bad storage classes", () => {
  throws(() => parseCommandLine(["server", "/d", "--bogus"], noEnv), UsageError);
  throws(() => parseCommandLine(["server"], noEnv), UsageError);
  throws(
    () => parseCommandLine(["server", "/d"], envOf({ SHALE_STORAGE_CLASS_STANDARD: "RS:2" })),
    UsageError,
  );
  throws(() => parseCommandLine(["serve"], noEnv), UsageError);
});

Deno.test("answers --help, server --help and --version", () => {
  const help = parseCommandLine(["--help"], noEnv);
  equal(help.kind, "help");
  const serverHelp = parseCommandLine(["server", "--help"], noEnv);
  if (serverHelp.kind !== "help") throw new Error(serverHelp.kind);
  for (
    const word of [
      "--address",
      "--console-address",
      "SHALE_ROOT_USER",
      "SHALE_ROOT_PASSWORD",
      "SHALE_REGION",
      "SHALE_STORAGE_CLASS_STANDARD",
      "SHALE_STORAGE_CLASS_RRS",
      "SHALE_DOMAIN",
    ]
  ) match(serverHelp.text, new RegExp(word));
  const version = parseCommandLine(["--version"], noEnv);
  if (version.kind !== "version") throw new Error(version.kind);
  match(version.text, /^shale version /);
});

Deno.test("parses IPv6 and rejects malformed addresses", () => {
  deepEqual(parseAddress("[::1]:9000", "--address"), { hostname: "::1", port: 9000 });
  throws(() => parseAddress("9000", "--address"), UsageError);
  throws(() => parseAddress("host:70000", "--address"), UsageError);
});

Deno.test("puts the credentials file in the first drive's parent folder", () => {
  equal(credentialsFilePath("./data/disk1"), "./data/.shale-credentials");
  equal(credentialsFilePath("/mnt/disk1/"), "/mnt/.shale-credentials");
  equal(credentialsFilePath("disk1"), "./.shale-credentials");
});

Deno.test("generates root credentials once, stores them 0600 and reuses them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = credentialsFilePath(`${dir}/data/disk1`);
    const first = await loadOrCreateRootCredentials(path);
    equal(first.generated, true);
    equal(first.credentials.accessKey.length, 20);
    equal(first.credentials.secretKey.length, 40);
    equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const second = await loadOrCreateRootCredentials(path);
    equal(second.generated, false);
    deepEqual(second.credentials, first.credentials);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--dev needs no drive and gives one local drive, known credentials and loopback", () => {
  const cmd = parseCommandLine(["server", "--dev"], noEnv);
  if (cmd.kind !== "server") throw new Error(cmd.kind);
  equal(cmd.config.dev, true);
  deepEqual(cmd.config.drives, ["./data/dev"]);
  deepEqual(cmd.config.address, { hostname: "127.0.0.1", port: 9000 });
  deepEqual(cmd.config.rootCredentials, { accessKey: "shaleadmin", secretKey: "shaleadmin" });
});

Deno.test("--dev keeps a given drive, address and root credentials", () => {
  const cmd = parseCommandLine(
    ["server", "--dev", "/tmp/x", "--address", ":0"],
    envOf({ SHALE_ROOT_USER: "someone", SHALE_ROOT_PASSWORD: "password1" }),
  );
  if (cmd.kind !== "server") throw new Error(cmd.kind);
  deepEqual(cmd.config.drives, ["/tmp/x"]);
  deepEqual(cmd.config.address, { hostname: "0.0.0.0", port: 0 });
  deepEqual(cmd.config.rootCredentials, { accessKey: "someone", secretKey: "password1" });
});

Deno.test("reads the certs folder, access log and Prometheus auth settings", () => {
  const plain = parseCommandLine(["server", "/d"], noEnv);
  if (plain.kind !== "server") throw new Error(plain.kind);
  equal(plain.config.certsDir, "/etc/shale/certs");
  equal(plain.config.accessLog, false);
  equal(plain.config.prometheusAuthType, "jwt");
  const cmd = parseCommandLine(
    ["server", "/d", "--certs-dir=/c", "--access-log"],
    envOf({ MINIO_PROMETHEUS_AUTH_TYPE: "public" }),
  );
  if (cmd.kind !== "server") throw new Error(cmd.kind);
  equal(cmd.config.certsDir, "/c");
  equal(cmd.config.accessLog, true);
  equal(cmd.config.prometheusAuthType, "public");
  const env = parseCommandLine(["server", "/d"], envOf({ SHALE_ACCESS_LOG: "on" }));
  if (env.kind !== "server") throw new Error(env.kind);
  equal(env.config.accessLog, true);
  throws(
    () => parseCommandLine(["server", "/d"], envOf({ SHALE_PROMETHEUS_AUTH_TYPE: "open" })),
    UsageError,
  );
});

Deno.test("shale server --help names every SHALE_ variable the server's code reads", async () => {
  // Read by `shale admin` (its own help names it), or by tests only.
  const notServers = new Set(["SHALE_ENDPOINT"]);
  const root = new URL("../../", import.meta.url);
  const files = [new URL("main.ts", root).pathname];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (/\.ts$/.test(e.name) && !/(_test|_bench|_testing)\.ts$/.test(e.name)) {
        files.push(path);
      }
    }
  };
  await walk(new URL("src", root).pathname);
  const read = new Set<string>();
  for (const f of files) {
    for (const m of (await Deno.readTextFile(f)).matchAll(/"(SHALE_[A-Z0-9_]+)"/g)) {
      if (!m[1]!.startsWith("SHALE_TEST_") && !notServers.has(m[1]!)) read.add(m[1]!);
    }
  }
  equal(read.has("SHALE_ROOT_USER") && read.size > 10, true, [...read].join(" "));
  const help = (parseCommandLine(["server", "--help"], () => undefined) as { text: string }).text;
  const missing = [...read].filter((v) => !new RegExp(`\\b${v}\\b`).test(help));
  deepEqual(missing, [], "named nowhere in SERVER_HELP");
});
