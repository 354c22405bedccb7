import { equal, match, ok } from "node:assert/strict";
import { signRequestForTest } from "../src/auth/testing.ts";
import { startServer } from "./_server.ts";
import { signedFetch } from "./_ops.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** `deno task shale`'s flags (permissions and --unstable-net). */
async function shaleFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  return String(config.tasks.shale).split(" ").filter((a: string) => a.startsWith("--"));
}

/** Opens a PUT whose body never completes: the request stays in flight. */
async function hangingUpload(endpoint: string, accessKey: string, secretKey: string) {
  const url = new URL(endpoint);
  const signed = signRequestForTest(
    {
      method: "PUT",
      rawPath: "/hang/in-flight",
      rawQuery: "",
      headers: new Headers({ host: url.host, "content-length": String(1024 * 1024) }),
    },
    { accessKey, secretKey, region: "us-east-1", payloadHash: "UNSIGNED-PAYLOAD" },
  );
  let head = "PUT /hang/in-flight HTTP/1.1\r\n";
  for (const [k, v] of signed.headers) head += `${k}: ${v}\r\n`;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(url.port) });
  await conn.write(new TextEncoder().encode(head + "\r\n"));
  await conn.write(new Uint8Array(1000));
  // Give the server time to take the request in (no client-visible sign that it has).
  await new Promise((r) => setTimeout(r, 300));
  return conn;
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test({
    name:
      `a second ${signal} during the drain exits at once instead of waiting for the grace period`,
    sanitizeResources: false,
    async fn() {
      const s = await startServer({ drives: 1 });
      equal((await signedFetch(s, "PUT", "/hang")).status, 200);
      const conn = await hangingUpload(s.endpoint, s.accessKey, s.secretKey);
      try {
        s.signal(signal);
        // The first signal drains: the hanging upload keeps the server up (grace is 10 s).
        const early = await Promise.race([
          s.exited,
          new Promise((r) => setTimeout(() => r("running"), 500)),
        ]);
        equal(early, "running");
        const sent = performance.now();
        s.signal(signal);
        const code = await s.exited;
        const tookMs = performance.now() - sent;
        equal(code, 1);
        ok(tookMs < 3000, `exit took ${tookMs} ms`);
        match(s.output(), /Second signal: exiting now/);
      } finally {
        conn.close();
        await s.stop();
      }
    },
  });
}

/** A Unix datagram socket that prints each message it gets (systemd's side of sd_notify). */
function notifyListener(path: string): { lines: () => string[]; stop: () => Promise<void> } {
  const script = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("BOUND", flush=True)
while True:
    print(s.recv(4096).decode(), flush=True)
`;
  const child = new Deno.Command("python3", {
    args: ["-c", script, path],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let text = "";
  const pump = (async () => {
    for await (const t of child.stdout.pipeThrough(new TextDecoderStream())) text += t;
  })();
  return {
    lines: () => text.split("\n").filter((l) => l !== ""),
    stop: async () => {
      child.kill("SIGKILL");
      await child.status;
      await pump;
    },
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  ok(cond(), `timed out waiting for ${what}`);
}

Deno.test("tells systemd READY=1 once listening and STOPPING=1 on shutdown", async () => {
  const dir = await Deno.makeTempDir({ prefix: "shale-notify-test-" });
  const path = `${dir}/notify.sock`;
  const listener = notifyListener(path);
  try {
    await until(() => listener.lines().includes("BOUND"), "the notify socket");
    const s = await startServer({ drives: 1, env: { NOTIFY_SOCKET: path } });
    try {
      await until(() => listener.lines().includes("READY=1"), "READY=1");
      equal(listener.lines().includes("STOPPING=1"), false);
    } finally {
      equal(await s.stop(), 0);
    }
    await until(() => listener.lines().includes("STOPPING=1"), "STOPPING=1");
    equal(listener.lines().filter((l) => l === "READY=1").length, 1);
  } finally {
    await listener.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`shale server --dev` needs no arguments: a local drive, known credentials, a ready bucket", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "shale-dev-" });
  // --address only to avoid a port clash with other tests; --dev alone listens on 127.0.0.1:9000.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...await shaleFlags(), MAIN, "server", "--dev", "--address", "127.0.0.1:0"],
    cwd,
    clearEnv: true,
    // The runner's own SHALE_* / MINIO_* variables must not reach the server.
    env: {
      ...Object.fromEntries(
        Object.entries(Deno.env.toObject()).filter(([k]) =>
          !k.startsWith("SHALE_") && !k.startsWith("MINIO_")
        ),
      ),
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const pump = Promise.all([child.stdout, child.stderr].map(async (st) => {
    for await (const t of st.pipeThrough(new TextDecoderStream())) out += t;
  }));
  try {
    await until(() => /"message":"Listening"/.test(out), `the dev server to listen:\n${out}`);
    match(out, /RootUser: shaleadmin/);
    match(out, /RootPass: shaleadmin/);
    match(out, /Drives: 1 \(\.\/data\/dev\)/);
    const port = Number(/"port":(\d+)/.exec(out)?.[1]);
    const s = {
      endpoint: `http://127.0.0.1:${port}`,
      accessKey: "shaleadmin",
      secretKey: "shaleadmin",
      region: "us-east-1",
    };
    const server = s as unknown as Parameters<typeof signedFetch>[0];
    const head = await signedFetch(server, "HEAD", "/dev");
    equal(head.status, 200);
    const put = await signedFetch(server, "PUT", "/dev/hello.txt", {
      body: new TextEncoder().encode("hi"),
    });
    equal(put.status, 200);
    await put.body?.cancel();
    ok((await Deno.stat(`${cwd}/data/dev`)).isDirectory);
  } finally {
    child.kill("SIGTERM");
    equal((await child.status).code, 0);
    await pump;
    await Deno.remove(cwd, { recursive: true });
  }
});
