/**
 * MinIO's ellipsis syntax for drive lists: `/mnt/disk{1...4}` is four paths, `/mnt/d{1...2}/x{1...2}`
 * is four paths with the left-most range varying slowest. Ranges are decimal (`{1...16}`, zero
 * padding kept as in `{01...16}`) or single lower-case letters (`{a...d}`).
 */
import { DRIVES_PER_ARG_MAX } from "./limits.ts";

export class EllipsisError extends Error {
  override name = "EllipsisError";
}

const RANGE = /\{([^{}]*?)\.\.\.([^{}]*?)\}/g;

/** True when the argument holds at least one `{a...b}` range. */
export function hasEllipsis(arg: string): boolean {
  return /\{[^{}]*?\.\.\.[^{}]*?\}/.test(arg);
}

/** Expands every `{a...b}` range of one argument; an argument without ranges is itself. */
export function expandEllipsis(arg: string): string[] {
  const parts: string[] = [];
  const ranges: string[][] = [];
  let last = 0;
  for (const m of arg.matchAll(RANGE)) {
    parts.push(arg.slice(last, m.index));
    ranges.push(expandRange(m[1] ?? "", m[2] ?? "", arg));
    last = m.index + m[0].length;
  }
  parts.push(arg.slice(last));
  let out = [parts[0] ?? ""];
  for (let i = 0; i < ranges.length; i++) {
    const next: string[] = [];
    for (const prefix of out) {
      for (const value of ranges[i] ?? []) next.push(prefix + value + (parts[i + 1] ?? ""));
    }
    if (next.length > DRIVES_PER_ARG_MAX) {
      throw new EllipsisError(`Too many drives in "${arg}": at most ${DRIVES_PER_ARG_MAX}`);
    }
    out = next;
  }
  if (out.some((p) => p.includes("{") && p.includes("..."))) {
    throw new EllipsisError(`Malformed ellipsis in "${arg}"`);
  }
  return out;
}

/** Expands every argument and checks that no drive path appears twice. */
export function expandDriveArgs(args: string[]): string[] {
  const drives = args.flatMap(expandEllipsis);
  const seen = new Set<string>();
  for (const d of drives) {
    if (seen.has(d)) throw new EllipsisError(`Drive "${d}" is listed more than once`);
    seen.add(d);
  }
  return drives;
}

function expandRange(from: string, to: string, arg: string): string[] {
  if (/^\d+$/.test(from) && /^\d+$/.test(to)) {
    const a = Number(from);
    const b = Number(to);
    if (a > b) throw new EllipsisError(`Range {${from}...${to}} in "${arg}" runs backwards`);
    if (b - a + 1 > DRIVES_PER_ARG_MAX) {
      throw new EllipsisError(`Too many drives in "${arg}": at most ${DRIVES_PER_ARG_MAX}`);
    }
    const width = from.length > 1 && from.startsWith("0") ? from.length : 0;
    const out: string[] = [];
    for (let n = a; n <= b; n++) out.push(String(n).padStart(width, "0"));
    return out;
  }
  if (/^[a-z]$/.test(from) && /^[a-z]$/.test(to)) {
    const a = from.charCodeAt(0);
    const b = to.charCodeAt(0);
    if (a > b) throw new EllipsisError(`Range {${from}...${to}} in "${arg}" runs backwards`);
    const out: string[] = [];
    for (let c = a; c <= b; c++) out.push(String.fromCharCode(c));
    return out;
  }
  throw new EllipsisError(`Range {${from}...${to}} in "${arg}" is neither numbers nor letters`);
}
