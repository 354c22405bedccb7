/**
 * Test-only fault injection in the running server: `SHALE_TEST_FAULTY_DRIVES=<slots>:<file>`
 * (never in `--help`; see README.md) wraps the drives at the listed 1-based command-line slots in
 * a FaultyDrive whose faults a test switches from outside the process through a control file.
 *
 * How this works
 * - The wrapped drives start with every fault off (a FaultyDrive with no rates is a transparent
 *   wrapper, so drives that never fail cost one extra call each).
 * - A timer reads the control file every FAULT_CONTROL_POLL_MS (not once per drive call). Absent:
 *   no drive fails. Present: it lists the slots that fail (1-based, separated by commas or
 *   white space; empty means every wrapped slot), and those drives throw DriveOffline (EIO) on
 *   every call until the file changes. Listed slots that are not wrapped are ignored.
 * - Every change is logged ("Injected drive faults", with the failing slots), so a test can wait
 *   until the server has seen it instead of sleeping.
 * - The timer is unref'd: it never keeps the process alive.
 */
import { FAULT_CONTROL_FILE_BYTES_MAX, FAULT_CONTROL_POLL_MS } from "../config/limits.ts";
import { logger } from "../util/logger.ts";
import type { Drive } from "./drive.ts";
import { FaultyDrive } from "./faulty_drive.ts";
import { FsDrive } from "./fs_drive.ts";

export const FAULTY_DRIVES_ENV = "SHALE_TEST_FAULTY_DRIVES";

/** SHALE_TEST_FAULTY_DRIVES is malformed or names a slot that does not exist. */
export class FaultyDrivesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FaultyDrivesError";
  }
}

export interface FaultyDrivesSpec {
  /** 0-based drive slots to wrap, ascending. */
  slots: number[];
  /** While this file exists, the slots it lists fail. */
  controlFile: string;
}

/** Parses `<slot>[,<slot>...]:<control file>` for a server of `driveCount` drives. */
export function parseFaultyDrives(value: string, driveCount: number): FaultyDrivesSpec {
  const colon = value.indexOf(":");
  const controlFile = colon < 0 ? "" : value.slice(colon + 1);
  if (colon < 0 || controlFile === "") {
    throw new FaultyDrivesError(
      `${FAULTY_DRIVES_ENV} "${value}" is not <slot>[,<slot>...]:<control file>`,
    );
  }
  const slots = new Set<number>();
  for (const s of value.slice(0, colon).split(",")) {
    const n = /^\d+$/.test(s.trim()) ? Number(s.trim()) : NaN;
    if (!(n >= 1 && n <= driveCount)) {
      throw new FaultyDrivesError(
        `${FAULTY_DRIVES_ENV}: drive slot "${s}" is not a number from 1 to ${driveCount}`,
      );
    }
    slots.add(n - 1);
  }
  return { slots: [...slots].sort((a, b) => a - b), controlFile };
}

/** Slots (0-based) a control file's text makes fail, among `wrapped`. */
export function failingSlots(text: string, wrapped: readonly number[]): number[] {
  const words = text.split(/[\s,]+/).filter((w) => w !== "");
  if (words.length === 0) return [...wrapped];
  const named = new Set(words.map((w) => Number(w) - 1));
  return wrapped.filter((i) => named.has(i));
}

/** The first `maxBytes` of a file, as text. */
async function readHead(path: string, maxBytes: number): Promise<string> {
  using file = await Deno.open(path);
  const buf = new Uint8Array(maxBytes);
  let n = 0;
  while (n < maxBytes) {
    const got = await file.read(buf.subarray(n));
    if (got === null) break;
    n += got;
  }
  return new TextDecoder().decode(buf.subarray(0, n));
}

/** Reads the control file and switches the wrapped drives' faults; see the header. */
export class FaultSwitch {
  /** The 0-based slots failing now. */
  failing: number[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #polling: Promise<void> = Promise.resolve();

  constructor(
    readonly drives: ReadonlyMap<number, FaultyDrive>,
    readonly controlFile: string,
  ) {}

  /** Reads the control file once and applies it; a read error other than absence changes nothing. */
  async poll(): Promise<void> {
    let text: string | undefined;
    try {
      text = await readHead(this.controlFile, FAULT_CONTROL_FILE_BYTES_MAX);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) return;
    }
    this.apply(text === undefined ? [] : failingSlots(text, [...this.drives.keys()]));
  }

  /** Makes exactly `slots` (0-based, wrapped ones) fail with EIO on every call. */
  apply(slots: number[]): void {
    const next = [...slots].sort((a, b) => a - b);
    if (next.join() === this.failing.join()) return;
    this.failing = next;
    for (const [i, d] of this.drives) d.rates = next.includes(i) ? { ioError: 1 } : {};
    logger.warn("Injected drive faults", {
      failing: next.map((i) => i + 1),
      drives: next.map((i) => this.drives.get(i)!.path),
    });
  }

  /** Polls every FAULT_CONTROL_POLL_MS until stop(). */
  start(): void {
    const schedule = () => {
      const timer = setTimeout(() => {
        this.#polling = this.poll().then(() => {
          if (!this.#stopped) schedule();
        });
      }, FAULT_CONTROL_POLL_MS);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    };
    schedule();
  }

  /** Stops polling; resolves once a read in flight has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#polling;
  }
}

/** Wraps the spec's slots of `drives` in FaultyDrives (seeded by slot), faults off. */
export function wrapFaultyDrives(
  drives: Drive[],
  spec: FaultyDrivesSpec,
): { drives: Drive[]; faults: FaultSwitch } {
  const wrapped = new Map<number, FaultyDrive>();
  const out = drives.map((d, i) => {
    if (!spec.slots.includes(i)) return d;
    const f = new FaultyDrive(d, { seed: i + 1 });
    wrapped.set(i, f);
    return f;
  });
  return { drives: out, faults: new FaultSwitch(wrapped, spec.controlFile) };
}

/**
 * The server's drives when SHALE_TEST_FAULTY_DRIVES is set (file-system drives, the named slots
 * wrapped, the control file polled from now on); undefined when it is not set.
 * Throws FaultyDrivesError when it is malformed.
 */
export async function faultyDrivesFromEnv(
  paths: string[],
  env: (name: string) => string | undefined,
): Promise<{ drives: Drive[]; faults: FaultSwitch } | undefined> {
  const value = env(FAULTY_DRIVES_ENV);
  if (value === undefined || value === "") return undefined;
  const spec = parseFaultyDrives(value, paths.length);
  const out = wrapFaultyDrives(paths.map((p) => new FsDrive(p)), spec);
  // Faults the file asks for hold from the first call on, not from the first tick.
  await out.faults.poll();
  out.faults.start();
  logger.warn("Test-only fault injection is on", {
    env: FAULTY_DRIVES_ENV,
    slots: spec.slots.map((i) => i + 1),
    controlFile: spec.controlFile,
  });
  return out;
}
