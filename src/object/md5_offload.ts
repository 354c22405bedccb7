/**
 * MD5 on a worker thread, for the ETag of large bodies.
 *
 * How this works
 * - One worker (src/object/md5_worker.ts), started on first use and kept until `close()`, hashes
 *   for every body at once; messages to it keep their order, so each body's bytes are hashed in
 *   the order they came.
 * - A body's hasher copies its chunks into a batch of MD5_OFFLOAD_BATCH_BYTES and hands each full
 *   batch to the worker (transferred, not copied again); the worker hands the buffer back for a
 *   later batch (at most MD5_OFFLOAD_SPARE_BATCHES_MAX kept). The main thread's cost is that one
 *   copy: about a tenth of hashing the bytes itself.
 * - Bounded: while more than MD5_OFFLOAD_INFLIGHT_BYTES_MAX of all bodies' bytes are with the
 *   worker and not yet hashed, `update` returns a promise that settles, first come first served,
 *   once enough are; the body waits. Memory: that bound, plus one batch per body being filled.
 * - `digest()` sends the last batch and waits for the 16 bytes. `dispose()` (a body that failed)
 *   tells the worker to forget the hash. If the worker dies, every pending call rejects and the
 *   next hasher starts a new worker.
 */
import {
  MD5_OFFLOAD_BATCH_BYTES,
  MD5_OFFLOAD_INFLIGHT_BYTES_MAX,
  MD5_OFFLOAD_SPARE_BATCHES_MAX,
} from "../config/limits.ts";
import type { Md5Reply, Md5Request } from "./md5_worker.ts";

interface Body {
  /** Set when the worker died: the hash is lost. */
  failed?: Error;
  digest?: { resolve: (d: Uint8Array) => void; reject: (e: Error) => void };
}

interface Waiting {
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface OffloadedMd5 {
  /** Takes the chunk (copied); a promise when the body must wait for the worker. */
  update(chunk: Uint8Array): void | Promise<void>;
  digest(): Promise<Uint8Array>;
  /** Forgets the hash (no digest will be asked for). Safe to call more than once. */
  dispose(): void;
}

export class Md5Offload {
  #worker: Worker | undefined;
  readonly #spare: ArrayBuffer[] = [];
  #nextId = 1;
  readonly #bodies = new Map<number, Body>();
  /** Bytes with the worker, not yet hashed, over all bodies. */
  #inflight = 0;
  #waiting: Waiting[] = [];
  #closed = false;

  /** Bytes sent to the worker and not yet hashed (for tests and metrics). */
  get inflightBytes(): number {
    return this.#inflight;
  }

  /** A hasher for one body. */
  hasher(): OffloadedMd5 {
    if (this.#closed) throw new Error("Md5Offload is closed");
    const id = this.#nextId++;
    const body: Body = {};
    this.#bodies.set(id, body);
    let batch = this.#batch();
    let filled = 0;
    let done = false;
    const send = () => {
      if (filled === 0) return;
      const data = filled === batch.length ? batch : batch.slice(0, filled);
      this.#post({ op: "update", id, data }, [data.buffer]);
      this.#inflight += filled;
      batch = this.#batch();
      filled = 0;
    };
    return {
      update: (chunk) => {
        if (done) throw new Error("MD5 hasher already finished");
        if (body.failed !== undefined) throw body.failed;
        for (let at = 0; at < chunk.length;) {
          const n = Math.min(chunk.length - at, batch.length - filled);
          batch.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === batch.length) send();
        }
        if (this.#inflight <= MD5_OFFLOAD_INFLIGHT_BYTES_MAX) return;
        return new Promise<void>((resolve, reject) => this.#waiting.push({ resolve, reject }));
      },
      digest: () => {
        if (done) return Promise.reject(new Error("MD5 hasher already finished"));
        done = true;
        if (body.failed !== undefined) return Promise.reject(body.failed);
        return new Promise<Uint8Array>((resolve, reject) => {
          body.digest = { resolve, reject };
          try {
            send();
            this.#post({ op: "digest", id });
          } catch (e) {
            this.#bodies.delete(id);
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      },
      dispose: () => {
        if (done) return;
        done = true;
        this.#bodies.delete(id);
        if (this.#worker !== undefined) this.#post({ op: "drop", id });
      },
    };
  }

  /** Stops the worker; pending calls reject. */
  close(): void {
    this.#closed = true;
    this.#fail(new Error("Md5Offload closed"));
  }

  #batch(): Uint8Array<ArrayBuffer> {
    const b = this.#spare.pop();
    return b !== undefined ? new Uint8Array(b) : new Uint8Array(MD5_OFFLOAD_BATCH_BYTES);
  }

  #post(m: Md5Request, transfer: Transferable[] = []): void {
    this.#workerNow().postMessage(m, transfer);
  }

  #workerNow(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const w = new Worker(new URL("./md5_worker.ts", import.meta.url).href, { type: "module" });
    w.onmessage = (e: MessageEvent<Md5Reply>) => this.#reply(e.data);
    w.onerror = (e) => {
      e.preventDefault();
      this.#fail(new Error(`MD5 worker failed: ${e.message}`));
    };
    w.onmessageerror = () => this.#fail(new Error("MD5 worker sent an unreadable message"));
    this.#worker = w;
    return w;
  }

  #reply(r: Md5Reply): void {
    if (r.op === "hashed") {
      if (
        r.buffer.byteLength === MD5_OFFLOAD_BATCH_BYTES &&
        this.#spare.length < MD5_OFFLOAD_SPARE_BATCHES_MAX
      ) {
        this.#spare.push(r.buffer);
      }
      this.#inflight -= r.bytes;
      while (this.#waiting.length > 0 && this.#inflight <= MD5_OFFLOAD_INFLIGHT_BYTES_MAX) {
        this.#waiting.shift()!.resolve();
      }
      return;
    }
    const body = this.#bodies.get(r.id);
    if (body === undefined) return; // disposed meanwhile
    this.#bodies.delete(r.id);
    body.digest?.resolve(r.digest);
  }

  /** Rejects everything pending and drops the worker (the next hasher starts another). */
  #fail(e: Error): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#inflight = 0;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w.reject(e);
    const bodies = [...this.#bodies.values()];
    this.#bodies.clear();
    for (const b of bodies) {
      b.failed = e;
      b.digest?.reject(e);
    }
  }
}
