/**
 * Inspects drive folders directly: does every drive hold a record of the object that agrees with
 * the others, and every shard file (or inline shard) complete with every frame's HighwayHash-256
 * right? That is "k + m good shards", what heal promises to bring back.
 */
import {
  blockDataBytes,
  BlockEncoder,
  blockShardBytes,
  checkShardHeader,
  distributionFor,
  frameIsValid,
  frameOffset,
  HASH_BYTES,
  type PartLayout,
  partLayout,
  setSizeFor,
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

/**
 * Each drive holds its OWN shard: `files[i]` (drive i's shard file of one part, every frame
 * valid, or undefined when it is not) must hold shard `want[i]`. Frame hashes cannot tell (two
 * drives' files swapped are each intact), so every block whose k + m frames are all present is
 * encoded again from the data shards as the drives claim them and compared frame by frame: a
 * shard in the wrong place changes the data or the parity.
 */
function shardsInPlace(
  files: Array<Uint8Array | undefined>,
  want: number[],
  l: PartLayout,
  m: number,
  what: string,
): string[] {
  if (files.includes(undefined) || m === 0) return [];
  const k = l.k;
  const byShard = new Map(want.map((shard, i) => [shard, files[i]!]));
  const encoder = new BlockEncoder(k, m, l.blockBytes);
  for (let b = 0; b < l.blocks; b++) {
    const at = frameOffset(l, b) + HASH_BYTES;
    const s = blockShardBytes(l, b);
    const block = new Uint8Array(k * s);
    for (let j = 0; j < k; j++) block.set(byShard.get(j + 1)!.subarray(at, at + s), j * s);
    const frames = encoder.encode(block.subarray(0, blockDataBytes(l, b)));
    const wrong = want.flatMap((shard, i) => {
      const frame = frames[shard - 1]!.subarray(HASH_BYTES);
      const got = files[i]!.subarray(at, at + s);
      return got.every((x, j) => x === frame[j]) ? [] : [i + 1];
    });
    if (wrong.length > 0) {
      // A swap shows on the drives that hold parity (data shards encode to themselves).
      return [`${what}: block ${b} is not what its data shards encode to (drives ${wrong} differ)`];
    }
  }
  return [];
}

/**
 * What is missing or bad for `key` on each drive; empty when all drives hold good shards, each
 * its own. `drives` are the folders of one erasure set, in command-line order.
 */
export async function shardProblems(
  drives: string[],
  bucket: string,
  key: string,
): Promise<string[]> {
  if (setSizeFor(drives.length) !== drives.length) {
    throw new Error(`shardProblems needs one erasure set, not ${drives.length} drives`);
  }
  const dir = keyPath(bucket, key).dir;
  const want = distributionFor(bucket, key, drives.length);
  const problems: string[] = [];
  let agreed: VersionRecord | undefined;
  let agreedId: string | undefined;
  // Per part (0 for an inline object): each drive's shard file when all its frames are valid.
  const files = new Map<number, Array<Uint8Array | undefined>>();
  const fileOf = (part: number, i: number, file: Uint8Array | undefined) => {
    if (!files.has(part)) files.set(part, drives.map(() => undefined));
    files.get(part)![i] = file;
  };
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
    agreed ??= v;
    agreedId ??= id;
    // A disagreeing record's shards are checked frame by frame, but not against the others'.
    const disagrees = id !== agreedId;
    if (disagrees) problems.push(`${where}: the record disagrees (${id} vs ${agreedId})`);
    if (v.erasure.distribution.join() !== want.join()) {
      problems.push(
        `${where}: the record's distribution is [${v.erasure.distribution}], not [${want}]`,
      );
    }
    if (v.erasure.shardIndex !== want[i]) {
      problems.push(
        `${where}: the record says shard ${v.erasure.shardIndex}, the drive's own is ${want[i]}`,
      );
    }
    if (v.inline !== undefined) {
      const bad = framesOk(v.inline, v.size, v);
      if (bad !== undefined) problems.push(`${where}: the inline shard ${bad}`);
      fileOf(0, i, bad === undefined && !disagrees ? v.inline : undefined);
      continue;
    }
    for (const p of v.parts) {
      const path = `${drive}/${dir}/${dataDirName(v.dataDir)}/part.${p.number}`;
      let file: Uint8Array;
      try {
        file = await Deno.readFile(path);
      } catch {
        problems.push(`${where}: part ${p.number} is missing`);
        fileOf(p.number, i, undefined);
        continue;
      }
      const bad = framesOk(file, p.size, v);
      if (bad !== undefined) problems.push(`${where}: part ${p.number} ${bad}`);
      fileOf(p.number, i, bad === undefined && !disagrees ? file : undefined);
    }
  }
  if (agreed !== undefined) {
    const { k, m, blockBytes } = agreed.erasure;
    const parts = agreed.inline !== undefined
      ? [{ number: 0, size: agreed.size }]
      : agreed.parts.map((p) => ({ number: p.number, size: p.size }));
    for (const p of parts) {
      const what = p.number === 0 ? `${key}, inline` : `${key}, part ${p.number}`;
      problems.push(
        ...shardsInPlace(
          files.get(p.number) ?? drives.map(() => undefined),
          want,
          partLayout(p.size, blockBytes, k),
          m,
          what,
        ),
      );
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
