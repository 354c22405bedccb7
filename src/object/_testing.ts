/** Helpers for the object layer's tests: temp drives, seeded bytes, stream plumbing. */
import { FsDrive, MemoryDrive } from "../storage/mod.ts";
import { openObjectLayerOn, type ShaleObjectLayer } from "./object_layer.ts";

export const SEED = Number(Deno.env.get("SHALE_SEED") ?? Date.now() % 1_000_000);

export function rng(seed: number): () => number {
  let x = (seed >>> 0) || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

export function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const v = (r() * 2 ** 32) >>> 0;
    out[i] = v & 0xff;
    if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff;
    if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff;
    if (i + 3 < n) out[i + 3] = v >>> 24;
  }
  return out;
}

/** A body delivered in chunks of `chunk` bytes (odd sizes exercise block assembly). */
export function bodyOf(data: Uint8Array, chunk = 64 * 1024 + 7): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= data.length) return c.close();
      c.enqueue(data.slice(off, off + chunk));
      off += chunk;
    },
  });
}

export async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

export interface FsCluster {
  root: string;
  paths: string[];
  layer: ShaleObjectLayer;
  reopen(opts?: { standardParity?: number }): Promise<ShaleObjectLayer>;
  cleanup(): Promise<void>;
}

export async function fsCluster(
  n: number,
  opts: { standardParity?: number } = {},
): Promise<FsCluster> {
  const root = await Deno.makeTempDir({ prefix: "shale-ol-" });
  const paths = Array.from({ length: n }, (_, i) => `${root}/d${i + 1}`);
  const open = (o: { standardParity?: number }) =>
    openObjectLayerOn(paths.map((p) => new FsDrive(p)), { standardParity: o.standardParity });
  const c: FsCluster = {
    root,
    paths,
    layer: await open(opts),
    async reopen(o = opts) {
      await c.layer.close();
      c.layer = await open(o);
      return c.layer;
    },
    async cleanup() {
      await c.layer.close();
      for (const p of paths) await Deno.chmod(p, 0o755).catch(() => {});
      await Deno.remove(root, { recursive: true });
    },
  };
  return c;
}

export async function memoryLayer(n: number): Promise<ShaleObjectLayer> {
  return await openObjectLayerOn(
    Array.from({ length: n }, (_, i) => new MemoryDrive(`mem://d${i + 1}`)),
    {},
  );
}

/** Every file under a directory, relative to it. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string, rel: string) {
    for await (const e of Deno.readDir(d)) {
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory) await walk(`${d}/${e.name}`, r);
      else out.push(r);
    }
  }
  await walk(dir, "");
  return out.sort();
}

export const isRoot = Deno.uid() === 0;

/** Makes a drive unreadable: chmod 000, or (as root, who ignores modes) a file in its place. */
export async function makeUnreadable(path: string): Promise<() => Promise<void>> {
  if (!isRoot) {
    await Deno.chmod(path, 0o000);
    return () => Deno.chmod(path, 0o755);
  }
  await Deno.rename(path, `${path}.away`);
  await Deno.writeTextFile(path, "not a directory");
  return async () => {
    await Deno.remove(path);
    await Deno.rename(`${path}.away`, path);
  };
}
