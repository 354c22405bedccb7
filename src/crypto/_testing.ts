/** Helpers shared by this layer's tests: a seeded generator and stream plumbing. */

/** A seeded generator; the seed is printed and replays from SHALE_SEED. */
export function seededRandom(label: string): { next(): number; int(max: number): number } {
  const seed = Number(Deno.env.get("SHALE_SEED") ?? Date.now() % 1_000_000_007);
  console.log(`${label}: seed ${seed} (replay with SHALE_SEED=${seed})`);
  // xorshift32; the seed must not be 0.
  let state = (seed >>> 0) || 0x9e3779b9;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  return { next, int: (max: number) => Math.floor(next() * max) };
}

/** `length` bytes from the generator (so a replay gets the same data). */
export function randomData(rand: { int(max: number): number }, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const words = new Uint32Array(out.buffer, 0, Math.floor(length / 4));
  for (let i = 0; i < words.length; i++) words[i] = rand.int(2 ** 32);
  for (let i = words.length * 4; i < length; i++) out[i] = rand.int(256);
  return out;
}

/** Feeds `input` in chunks of random sizes (up to `chunkMax`) through `transform`. */
export async function pipeBytes(
  input: Uint8Array,
  transform: TransformStream<Uint8Array, Uint8Array>,
  options: { rand?: { int(max: number): number }; chunkMax?: number } = {},
): Promise<Uint8Array> {
  const chunkMax = options.chunkMax ?? 200_000;
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      let at = 0;
      while (at < input.length) {
        const n = options.rand === undefined ? chunkMax : 1 + options.rand.int(chunkMax);
        controller.enqueue(input.slice(at, at + n));
        at += n;
      }
      controller.close();
    },
  });
  return await collect(source.pipeThrough(transform));
}

export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const c of stream) {
    chunks.push(c);
    length += c.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
