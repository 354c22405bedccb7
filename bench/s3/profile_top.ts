/**
 * Prints the functions with the most self time in a V8 `.cpuprofile` (as written by
 * `deno task bench:s3 --cpu-prof`), and the same grouped by file.
 *
 *   deno run -A bench/s3/profile_top.ts bench/.cache/profiles/CPU.*.cpuprofile [--top 25]
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  micros: number;
}

/** Self time per function and per file, largest first. */
export function selfTimes(p: CpuProfile): { byFunction: SelfTime[]; byFile: SelfTime[] } {
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const n = nodes.get(id);
    const dt = p.timeDeltas[i] ?? 0;
    if (n === undefined) return;
    const url = n.callFrame.url.replace(/^file:\/\/.*?\/(src|bench|main\.ts)/, "$1") ||
      "(native)";
    const key = `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + dt);
    file.set(url, (file.get(url) ?? 0) + dt);
  });
  const sorted = (m: Map<string, number>) =>
    [...m].map(([name, micros]) => ({ name, micros })).sort((a, b) => b.micros - a.micros);
  return { byFunction: sorted(fn), byFile: sorted(file) };
}

if (import.meta.main) {
  const path = Deno.args.find((a) => !a.startsWith("--"));
  const topAt = Deno.args.indexOf("--top");
  const top = topAt >= 0 ? Number(Deno.args[topAt + 1]) : 25;
  if (path === undefined) {
    console.error("usage: profile_top.ts <file.cpuprofile> [--top N]");
    Deno.exit(2);
  }
  const p = JSON.parse(await Deno.readTextFile(path)) as CpuProfile;
  const { byFunction, byFile } = selfTimes(p);
  const total = byFunction.reduce((s, x) => s + x.micros, 0);
  const show = (rows: SelfTime[]) => {
    for (const r of rows.slice(0, top)) {
      console.log(`${(100 * r.micros / total).toFixed(1).padStart(5)}%  ${r.name}`);
    }
  };
  console.log(`total sampled: ${(total / 1e6).toFixed(1)} s\n\nself time by function:`);
  show(byFunction);
  console.log("\nself time by file:");
  show(byFile);
}
