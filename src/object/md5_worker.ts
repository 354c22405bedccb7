/**
 * The MD5 worker (src/object/md5_offload.ts is its only user): one running hash per id. Messages,
 * in order per id: `update` (bytes, answered with `hashed`), then `digest` (answered with the 16
 * bytes) or `drop`.
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { createHash, type Hash } from "node:crypto";

export type Md5Request =
  | { op: "update"; id: number; data: Uint8Array }
  | { op: "digest"; id: number }
  | { op: "drop"; id: number };
export type Md5Reply =
  /** `data`'s buffer goes back for reuse. */
  | { op: "hashed"; id: number; bytes: number; buffer: ArrayBuffer }
  | { op: "digest"; id: number; digest: Uint8Array };

const hashes = new Map<number, Hash>();

self.onmessage = (e: MessageEvent<Md5Request>) => {
  const m = e.data;
  if (m.op === "drop") {
    hashes.delete(m.id);
    return;
  }
  let h = hashes.get(m.id);
  if (h === undefined) {
    h = createHash("md5");
    hashes.set(m.id, h);
  }
  if (m.op === "update") {
    h.update(m.data);
    const buffer = m.data.buffer as ArrayBuffer;
    self.postMessage(
      { op: "hashed", id: m.id, bytes: m.data.length, buffer } satisfies Md5Reply,
      [buffer],
    );
    return;
  }
  hashes.delete(m.id);
  const digest = new Uint8Array(h.digest());
  self.postMessage({ op: "digest", id: m.id, digest } satisfies Md5Reply, [digest.buffer]);
};
