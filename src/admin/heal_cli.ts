/**
 * `shale admin heal [bucket[/prefix]] [--wait]`: starts a heal sequence through the admin API
 * (`POST /minio/admin/v3/heal/...`) and prints its token and progress; with --wait it follows the
 * sequence to its end, one line each time the counters move, and exits 1 when objects failed.
 * Where and who as for the other `shale admin` commands (--endpoint, --access-key, ...).
 */
import {
  ADMIN_USAGE,
  type AdminCliIo,
  adminRequest,
  adminTarget,
  CREDENTIALS_NEEDED,
  parseAdminArgs,
} from "../iam/mod.ts";
import type { HealStatus } from "./heal_api.ts";

/** How often --wait asks for progress. */
const POLL_MS = 500;

export async function runHealCommand(
  args: string[],
  io: AdminCliIo,
  opts: { pollMs?: number } = {},
): Promise<number> {
  const parsed = parseAdminArgs(args, ["--wait"]);
  if (typeof parsed === "string") return usage(io, parsed);
  const { flags, words } = parsed;
  const wait = parsed.switches.has("--wait");
  if (words.length > 1) return usage(io, "heal [bucket[/prefix]] [--wait]");
  const who = adminTarget(flags, io);
  if (who === undefined) return usage(io, CREDENTIALS_NEEDED);
  const target = (words[0] ?? "").replace(/^\/+/, "");
  const path = `heal/${target.split("/").map(encodeURIComponent).join("/")}`;
  const started = await adminRequest(who, "POST", path, {}, "");
  if (started.status !== 200) return failed(io, started);
  const token = (JSON.parse(started.text) as { clientToken: string }).clientToken;
  io.print(`Heal of ${target === "" ? "every bucket" : `"${target}"`} started: ${token}`);
  let shown = "";
  for (;;) {
    const res = await adminRequest(who, "POST", path, { clientToken: token }, "");
    if (res.status !== 200) return failed(io, res);
    const s = JSON.parse(res.text) as HealStatus;
    const line = `${s.summary}: ${s.objectsScanned} objects scanned, ${s.objectsHealed} healed, ` +
      `${s.objectsFailed} failed, ${s.bytesHealed} bytes healed`;
    if (line !== shown) io.print(line);
    shown = line;
    if (!wait) return 0;
    if (s.summary !== "running") {
      if (s.detail !== undefined) io.printError(`shale admin: heal ${s.summary}: ${s.detail}`);
      return s.summary === "finished" && s.objectsFailed === 0 ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? POLL_MS));
  }
}

function failed(io: AdminCliIo, answer: { status: number; text: string }): number {
  let message = answer.text;
  try {
    const e = JSON.parse(answer.text) as { Code?: string; Message?: string };
    message = `${e.Code ?? answer.status}: ${e.Message ?? ""}`;
  } catch { /* not JSON: print as is */ }
  io.printError(`shale admin: ${message}`);
  return 1;
}

function usage(io: AdminCliIo, problem: string): number {
  io.printError(`shale admin: ${problem}`);
  io.printError(ADMIN_USAGE);
  return 2;
}
