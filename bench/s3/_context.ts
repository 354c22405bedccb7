/**
 * Figures that bound what either server can reach on this machine: loopback TCP (iperf3, one
 * stream) and the disk's sequential write rate (64 MiB in 1 MiB writes, then fsync, from Deno).
 */
import { freePort } from "./_servers.ts";

const MiB = 1024 * 1024;
export const DISK_PROBE_BYTES = 64 * MiB;
export const DISK_PROBE_WRITE_BYTES = MiB;

interface IperfReport {
  end?: { sum_received?: { bits_per_second?: number } };
  error?: string;
}

/** Loopback throughput in bytes per second as iperf3's receiver measured it. */
export async function measureLoopback(iperf3: string, seconds: number): Promise<number> {
  const port = await freePort();
  const server = new Deno.Command(iperf3, {
    args: ["-s", "-1", "-B", "127.0.0.1", "-p", String(port)],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let lastError = "";
    // The server needs a moment to listen; retry the client briefly.
    for (let attempt = 0; attempt < 20; attempt++) {
      const out = await new Deno.Command(iperf3, {
        args: ["-c", "127.0.0.1", "-p", String(port), "-t", String(seconds), "-J"],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      // iperf3 -J exits 0 even when it could not connect; the report then carries "error".
      const text = new TextDecoder().decode(out.stdout);
      let report: IperfReport;
      try {
        report = JSON.parse(text) as IperfReport;
      } catch {
        report = { error: text.trim().split("\n")[0] ?? "no output" };
      }
      const bps = report.end?.sum_received?.bits_per_second;
      if (out.success && report.error === undefined && bps !== undefined) return bps / 8;
      lastError = report.error ?? `exit code ${out.code}`;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`iperf3 client failed: ${lastError}`);
  } finally {
    try {
      server.kill("SIGTERM");
    } catch { /* it exits by itself after one test (-1) */ }
    await server.status;
  }
}

/** Sequential write rate in bytes per second, fsync included, of a file in `dir`. */
export async function measureDiskWrite(dir: string): Promise<number> {
  const path = `${dir}/disk-probe-${crypto.randomUUID()}`;
  const buf = new Uint8Array(DISK_PROBE_WRITE_BYTES);
  crypto.getRandomValues(buf.subarray(0, 65536));
  for (let off = 65536; off < buf.length; off += 65536) buf.copyWithin(off, 0, 65536);
  const file = await Deno.open(path, { create: true, write: true, truncate: true });
  try {
    const started = performance.now();
    for (let written = 0; written < DISK_PROBE_BYTES; written += buf.length) {
      let off = 0;
      while (off < buf.length) off += await file.write(buf.subarray(off));
    }
    await file.sync();
    const seconds = (performance.now() - started) / 1000;
    return DISK_PROBE_BYTES / seconds;
  } finally {
    file.close();
    await Deno.remove(path);
  }
}
