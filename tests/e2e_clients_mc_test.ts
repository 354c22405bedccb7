/**
 * MinIO's own client, mc (pinned, built by tests/clients/install_mc.sh), for everyday object work:
 * mb, cp (single PUT and multipart with CRC32C checksums), pipe from stdin (a multipart upload
 * completed with a composite checksum header without its part count, as minio-go sends it), cat,
 * ls, stat and rm. Every byte read back is compared.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { bytesOf, mcBinary, MiB, run } from "./clients/_run.ts";
import { bodyBytes, clientFor } from "./_s3.ts";
import { startServer } from "./_server.ts";

Deno.test("mc copies, pipes, lists, reads and removes objects", async () => {
  const mc = await mcBinary();
  const server = await startServer();
  const dir = await Deno.makeTempDir({ prefix: "shale-mc-" });
  const mcRun = (args: string[], stdin?: Uint8Array) =>
    run(mc, ["--config-dir", `${dir}/cfg`, "--no-color", ...args], {
      env: { HOME: dir },
      ...(stdin !== undefined ? { stdin } : {}),
    });
  const mcOk = async (args: string[], stdin?: Uint8Array) => {
    const r = await mcRun(args, stdin);
    equal(r.code, 0, `mc ${args.join(" ")}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const s3 = clientFor(server);
  const read = async (key: string) =>
    await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: "mcb", Key: key }))).Body);
  try {
    await mcOk(["alias", "set", "s", server.endpoint, server.accessKey, server.secretKey]);
    await mcOk(["mb", "s/mcb"]);
    const small = bytesOf(1000, 7);
    const large = bytesOf(40 * MiB + 123, 8); // above mc's 16 MiB multipart threshold
    await Deno.writeFile(`${dir}/small.bin`, small);
    await Deno.writeFile(`${dir}/large.bin`, large);
    await mcOk(["cp", `${dir}/small.bin`, "s/mcb/dir/small.bin"]);
    await mcOk(["cp", `${dir}/large.bin`, "s/mcb/dir/large.bin"]);
    // mc pipe streams stdin as a multipart upload with a CRC32C composite checksum.
    const piped = bytesOf(3 * MiB + 5, 9);
    await mcOk(["pipe", "s/mcb/piped.bin"], piped);
    await mcOk(["pipe", "s/mcb/hello.txt"], new TextEncoder().encode("hello\n"));
    deepEqual(await read("dir/small.bin"), small);
    deepEqual(await read("dir/large.bin"), large);
    deepEqual(await read("piped.bin"), piped);
    equal(new TextDecoder().decode(await read("hello.txt")), "hello\n");
    equal(await mcOk(["cat", "s/mcb/hello.txt"]), "hello\n");
    const listed = (await mcOk(["--json", "ls", "--recursive", "s/mcb"])).trim().split("\n")
      .map((l) => JSON.parse(l) as { key: string; size: number });
    deepEqual(
      listed.map((e) => [e.key, e.size]),
      [
        ["dir/large.bin", large.length],
        ["dir/small.bin", small.length],
        ["hello.txt", 6],
        ["piped.bin", piped.length],
      ],
    );
    match(await mcOk(["stat", "s/mcb/dir/large.bin"]), /Size\s*:\s*40 MiB/);
    await mcOk(["rm", "--recursive", "--force", "s/mcb/dir"]);
    const left = (await mcOk(["--json", "ls", "--recursive", "s/mcb"])).trim().split("\n")
      .map((l) => (JSON.parse(l) as { key: string }).key);
    deepEqual(left, ["hello.txt", "piped.bin"]);
  } finally {
    s3.destroy();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
