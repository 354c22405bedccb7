/**
 * Inspects drive folders directly: does every drive hold a record of the object that agrees with
 * the others, and every shard file (or inline shard) complete with every frame's HighwayHash-256
 * right? That is "k + m good shards", what heal promises to bring back.
 */
import {
  blockShardBytes,
  checkShardHeader,
  frameIsValid,
  frameOffset,
  HASH_BYTES,
  partLayout,
  SHARD_HEADER_BYTES,
  shardFileBytes,
} from "../src/erasure/mod.ts";
import { runHealCommand } from "../src/admin/heal_cli.ts";
import { dataDirName, keyPath, META_FILE } from "../src/storage/key_path.ts";
import { decodeObjectRecord, type VersionRecord } from "../src/storage/records.ts";
import type { TestServer } from "./_server.ts";

function framesOk(file: Uint8Array, size: number, v: VersionRecord): string | undefined {
  const l = partLayout(size, v.erasure.blockBytes, v.erasure.k);
  if (file.length !== shardFileBytes(l)) return `is ${file.length} bytes, not ${shardFileBytes(l)}`;
  if (!checkShardHeader(file.subarray(0, SHARD_HEADER_BYTES))) return "has a bad header";
  for (let b = 0; b < l.blocks; b++) {
    const at = frameOffset(l, b);
    const s = blockShardBytes(l, b);
    if (!frameIsValid(file.subarray(at, at + HASH_BYTES + s), s)) return `frame ${b} is bad`;
  }
  return undefined;
}

/** What is missing or bad for `key` on each drive; empty when all drives hold good shards. */
export async function shardProblems(
  drives: string[],
  bucket: string,
  key: string,
): Promise<string[]> {
  const dir = keyPath(bucket, key).dir;
  const problems: string[] = [];
  let agreed: string | undefined;
  for (const [i, drive] of drives.entries()) {
    const where = `${key} on drive ${i + 1}`;
    let v: VersionRecord | undefined;
    try {
      v = decodeObjectRecord(await Deno.readFile(`${drive}/${dir}/${META_FILE}`)).versions[0];
    } catch (e) {
      problems.push(`${where}: no good record (${e instanceof Error ? e.message : e})`);
      continue;
    }
    if (v === undefined) {
      problems.push(`${where}: the record holds no version`);
      continue;
    }
    const id = `${v.modTimeMs} ${v.dataDir} ${v.etag}`;
    agreed ??= id;
    if (id !== agreed) problems.push(`${where}: the record disagrees (${id} vs ${agreed})`);
    if (v.inline !== undefined) {
      const bad = framesOk(v.inline, v.size, v);
      if (bad !== undefined) problems.push(`${where}: the inline shard ${bad}`);
      continue;
    }
    for (const p of v.parts) {
      const path = `${drive}/${dir}/${dataDirName(v.dataDir)}/part.${p.number}`;
      let file: Uint8Array;
      try {
        file = await Deno.readFile(path);
      } catch {
        problems.push(`${where}: part ${p.number} is missing`);
        continue;
      }
      const bad = framesOk(file, p.size, v);
      if (bad !== undefined) problems.push(`${where}: part ${p.number} ${bad}`);
    }
  }
  return problems;
}

/** shardProblems of every key, flattened. */
export async function allShardProblems(
  drives: string[],
  bucket: string,
  keys: Iterable<string>,
): Promise<string[]> {
  const out: string[] = [];
  for (const key of keys) out.push(...await shardProblems(drives, bucket, key));
  return out;
}

/**
 * `shale admin heal [target] --wait` against the server, in process (the same code the command
 * line runs); resolves with its exit code and what it printed.
 */
export async function healThroughAdminApi(
  s: TestServer,
  target = "",
): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const env: Record<string, string> = {
    SHALE_ENDPOINT: s.endpoint,
    SHALE_ROOT_USER: s.accessKey,
    SHALE_ROOT_PASSWORD: s.secretKey,
    SHALE_REGION: s.region,
  };
  const code = await runHealCommand([...(target === "" ? [] : [target]), "--wait"], {
    env: (name) => env[name],
    readFile: (path) => Deno.readTextFile(path),
    print: (line) => lines.push(line),
    printError: (line) => lines.push(line),
  }, { pollMs: 100 });
  return { code, lines };
}
