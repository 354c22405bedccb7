/** Command line of `deno task bench:s3`. */

export type ServerName = "shale" | "minio";
export const SERVER_NAMES: readonly ServerName[] = ["shale", "minio"];

export interface BenchArgs {
  /** Every workload for a few seconds, with fewer objects. */
  quick: boolean;
  /** Servers to measure; both unless `--only`. */
  servers: ServerName[];
  /** Workload names to run (`get`, `put`, ...); all when empty. */
  workloads: string[];
  /** Rounds per server and workload (interleaved). */
  rounds: number;
  /** Seconds each warp run measures; undefined means the mode's default. */
  durationSeconds: number | undefined;
  /** Keep the drive folders and server logs under bench/.cache/run after the run. */
  keep: boolean;
  /** Skip the iperf3 and disk measurements. */
  noContext: boolean;
  /** Run MinIO in the Shale column too: ratios should sit near 1.0 (checks the harness). */
  minioVsMinio: boolean;
  /** Run Shale with `deno run --cpu-prof`. */
  cpuProf: boolean;
  help: boolean;
}

export const ROUNDS_MIN = 3;

export const USAGE = `deno task bench:s3 [flags]

Starts MinIO and Shale on 127.0.0.1 (4 drive folders, EC:2 each), runs warp against both in
interleaved rounds and prints a TSV of medians with Shale/MinIO ratios.

  --quick                every workload for a few seconds, fewer objects
  --only shale|minio     measure one server (development)
  --workloads get,put    run only these workloads (names: get put mixed stat delete
                         multipart-put list)
  --rounds N             rounds per server and workload (default 3, at least 3 unless --only)
  --duration SECONDS     measured seconds per warp run (default 30, or 4 with --quick)
  --keep                 keep drive folders and server logs in bench/.cache/run
  --no-context           skip the iperf3 loopback and disk write measurements
  --cpu-prof             run Shale with deno --cpu-prof; profiles land in bench/.cache/profiles
  --minio-vs-minio       a second MinIO fills the shale column (ratios near 1.0 check the harness)
  --help
`;

/** Parses argv; throws an Error whose message is meant for the user. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = {
    quick: false,
    servers: [...SERVER_NAMES],
    workloads: [],
    rounds: ROUNDS_MIN,
    durationSeconds: undefined,
    keep: false,
    noContext: false,
    minioVsMinio: false,
    cpuProf: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] ?? "";
    const eq = raw.indexOf("=");
    const flag = eq >= 0 ? raw.slice(0, eq) : raw;
    const inline = eq >= 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new Error(`Flag "${flag}" needs a value`);
      return next;
    };
    switch (flag) {
      case "--quick":
        args.quick = true;
        break;
      case "--only": {
        const v = value();
        if (v !== "shale" && v !== "minio") {
          throw new Error(`--only takes "shale" or "minio", not "${v}"`);
        }
        args.servers = [v];
        break;
      }
      case "--workloads":
        args.workloads = value().split(",").map((s) => s.trim()).filter((s) => s !== "");
        break;
      case "--rounds":
        args.rounds = positiveInteger(flag, value());
        break;
      case "--duration":
        args.durationSeconds = positiveInteger(flag, value());
        break;
      case "--keep":
        args.keep = true;
        break;
      case "--no-context":
        args.noContext = true;
        break;
      case "--minio-vs-minio":
        args.minioVsMinio = true;
        break;
      case "--cpu-prof":
        args.cpuProf = true;
        break;
      case "--help":
      case "-h":
        args.help = true;
        break;
      default:
        throw new Error(`Unknown flag "${raw}"\n\n${USAGE}`);
    }
  }
  if (args.servers.length > 1 && args.rounds < ROUNDS_MIN) {
    throw new Error(`--rounds must be at least ${ROUNDS_MIN} when both servers run`);
  }
  return args;
}

function positiveInteger(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`Flag "${flag}" takes a positive integer`);
  return n;
}
