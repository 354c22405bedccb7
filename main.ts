// Wiring only: command line -> config -> drives -> object layer -> servers.
import {
  AccessLog,
  combineObservers,
  handleHealAdmin,
  notifySystemd,
  runHealCommand,
  ServerMetrics,
  UsageScanner,
} from "./src/admin/mod.ts";
import {
  HealQueue,
  HealScanner,
  HealSequences,
  HealTotals,
  scannerOptionsFromEnv,
} from "./src/background/mod.ts";
import {
  credentialsFilePath,
  DEV_BUCKET,
  DEV_CREDENTIALS,
  loadOrCreateRootCredentials,
  parseCommandLine,
  type ServerConfig,
  UsageError,
  VERSION,
} from "./src/config/mod.ts";
import {
  adminNotImplemented,
  handleIamAdmin,
  hideIamBucket,
  iamCredentialStore,
  IamStore,
  OidcProvider,
  openIdConfigsFromEnv,
  runAdminCommand,
  StsService,
} from "./src/iam/mod.ts";
import {
  BucketExists,
  Md5Offload,
  openObjectLayer,
  openObjectLayerOn,
  StartupError,
} from "./src/object/mod.ts";
import { type CredentialStore, type RequestObserver, startS3Server } from "./src/s3/mod.ts";
import { Kms, masterKeyFromEnv } from "./src/crypto/mod.ts";
import { FaultyDrivesError, faultyDrivesFromEnv } from "./src/storage/mod.ts";
import { attachKmsStore, handleKmsAdmin, runKmsCommand } from "./src/s3/mod.ts";
import { logger } from "./src/util/logger.ts";

// Start-up phases (issue 6: start-to-ready under 100 ms), reported on the "Listening" line.
// performance.now() counts from the runtime's start, so the first mark is module loading and
// evaluation: everything before main.ts's own body runs.
const phases: Record<string, number> = {};
let phaseStart = 0;
function phase(name: string): void {
  const now = performance.now();
  phases[name] = Math.round((now - phaseStart) * 10) / 10;
  phaseStart = now;
}
phase("modulesMs");

async function main(args: string[]): Promise<number> {
  if (args[0] === "admin" && args[1] === "kms") {
    return await runKmsCommand(args.slice(2), {
      env: (name) => Deno.env.get(name),
      readFile: (path) => Deno.readTextFile(path),
      print: (line) => console.log(line),
      printError: (line) => console.error(line),
    });
  }
  if (args[0] === "admin") {
    const io = {
      env: (name: string) => Deno.env.get(name),
      readFile: (path: string) => Deno.readTextFile(path),
      print: (line: string) => console.log(line),
      printError: (line: string) => console.error(line),
    };
    if (args[1] === "heal") return await runHealCommand(args.slice(2), io);
    return await runAdminCommand(args.slice(1), io);
  }
  let command;
  try {
    command = parseCommandLine(args, (name) => Deno.env.get(name));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`shale: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (command.kind !== "server") {
    console.log(command.text.trimEnd());
    return 0;
  }
  return await serve(command.config);
}

async function serve(config: ServerConfig): Promise<number> {
  let credentials = config.rootCredentials;
  let generated = false;
  if (credentials === undefined) {
    const file = credentialsFilePath(config.drives[0] ?? ".");
    const stored = await loadOrCreateRootCredentials(file);
    credentials = stored.credentials;
    generated = stored.generated;
    if (generated) console.log(`Generated root credentials, stored in ${file} (mode 0600)`);
  }
  phase("credentialsMs");
  // Reads that need no drive start now and are awaited where they were (issue 6: start-up
  // time); settled() keeps a failure from being an unhandled rejection meanwhile, and the
  // errors are reported in the same order as before.
  const tlsRead = settled(readCertificates(config.certsDir));
  const kmsOpened = settled(openKms(config.dev));
  let objects;
  try {
    const layer = {
      drives: config.drives,
      ...(config.standardParity !== undefined ? { standardParity: config.standardParity } : {}),
      ...(config.reducedParity !== undefined ? { reducedParity: config.reducedParity } : {}),
    };
    // Test-only (src/storage/README.md): SHALE_TEST_FAULTY_DRIVES makes chosen drives fail.
    const faulty = await faultyDrivesFromEnv(config.drives, (name) => Deno.env.get(name));
    objects = faulty === undefined
      ? await openObjectLayer(layer)
      : await openObjectLayerOn(faulty.drives, layer);
  } catch (e) {
    if (e instanceof StartupError || e instanceof FaultyDrivesError) {
      console.error(`shale: ${e.message}`);
      return 1;
    }
    throw e;
  }
  phase("objectLayerMs");
  const tlsResult = await tlsRead;
  if (!tlsResult.ok) {
    const e = tlsResult.error;
    console.error(`shale: ${e instanceof Error ? e.message : String(e)}`);
    await objects.close();
    return 1;
  }
  const tls = tlsResult.value;
  // The dev bucket and the IAM bucket are independent: both are made (or found) together.
  const devBucket = config.dev
    ? objects.makeBucket(DEV_BUCKET).catch((e) => {
      if (!(e instanceof BucketExists)) throw e;
    })
    : Promise.resolve();
  // Users, groups, policies and service accounts (issue 7), and STS sessions on top of them.
  let iam;
  try {
    const previous = config.previousRootSecretKey;
    [iam] = await Promise.all([
      IamStore.open(objects, {
        root: credentials,
        ...(previous !== undefined ? { previousRootSecretKeys: [previous] } : {}),
      }),
      devBucket,
    ]);
  } catch (e) {
    console.error(`shale: ${e instanceof Error ? e.message : e}`);
    console.error("shale: after changing the root password, set SHALE_ROOT_PASSWORD_OLD once");
    await objects.close();
    return 1;
  }
  phase("devBucketIamMs");
  // Test-only: end-to-end tests lower AWS's 900 s minimum to watch credentials expire.
  const stsMin = Deno.env.get("SHALE_TEST_STS_DURATION_SECONDS_MIN");
  let oidc;
  try {
    oidc = openIdConfigsFromEnv(Deno.env.toObject()).map((c) => new OidcProvider(c));
  } catch (e) {
    console.error(`shale: ${e instanceof Error ? e.message : e}`);
    await objects.close();
    return 1;
  }
  // A role policy that does not exist (yet) is allowed, as it may be created later, but named now:
  // until then the role's tokens get AccessDenied from AssumeRoleWithWebIdentity.
  for (const p of oidc) {
    for (const policy of p.rolePolicies) {
      if (iam.policy(policy) !== undefined) continue;
      logger.warn("An OpenID role policy does not exist on this server", {
        provider: p.config.name,
        policy,
      });
    }
  }
  const sts = new StsService(iam, {
    rootSecretKey: credentials.secretKey,
    ...(stsMin !== undefined ? { durationSecondsMin: Number(stsMin) } : {}),
    oidc,
  });
  const credentialStore: CredentialStore = { ...iamCredentialStore(iam, sts), sts };
  // What users see: the reserved IAM bucket is not theirs to list, scan or count.
  const visible = hideIamBucket(objects);
  const usage = new UsageScanner(
    visible,
    config.usageScanIntervalMs !== undefined ? { intervalMs: config.usageScanIntervalMs } : {},
  );
  // Heal (issue 5): keys reads found damaged, a bounded periodic walk of every bucket (the IAM
  // bucket included), and sequences started through the admin API; one set of counters.
  let scannerOptions;
  try {
    scannerOptions = scannerOptionsFromEnv((name) => Deno.env.get(name));
  } catch (e) {
    console.error(`shale: ${e instanceof Error ? e.message : e}`);
    await objects.close();
    return 1;
  }
  const healTotals = new HealTotals();
  const healQueue = new HealQueue(objects, healTotals);
  objects.onDamaged = (bucket, key) => healQueue.add(bucket, key);
  // The ETag's MD5 of large bodies on a worker thread (started on the first one).
  const md5Offload = new Md5Offload();
  objects.md5Offload = md5Offload;
  const scanner = new HealScanner(objects, { ...scannerOptions, totals: healTotals });
  const healSequences = new HealSequences(objects, { totals: healTotals });
  const metrics = new ServerMetrics({
    objects: visible,
    credentials: credentialStore,
    authType: config.prometheusAuthType,
    usage,
    heal: healTotals,
  });
  const observers: RequestObserver[] = [metrics];
  if (config.accessLog) observers.push(new AccessLog());
  // SSE-S3 / SSE-KMS (issue 8): the built-in KMS on SHALE_KMS_SECRET_KEY; --dev uses a dev key.
  const kmsResult = await kmsOpened;
  if (!kmsResult.ok) {
    const e = kmsResult.error;
    console.error(`shale: ${e instanceof Error ? e.message : e}`);
    await objects.close();
    return 1;
  }
  const kms = kmsResult.value;
  // Keys created through the admin API are kept sealed in the IAM bucket (src/s3/kms_admin.ts).
  if (kms !== undefined) await attachKmsStore(objects, kms);
  const server = await startS3Server({
    hostname: config.address.hostname,
    port: config.address.port,
    objects: visible,
    credentials: credentialStore,
    region: config.region,
    domains: config.domains,
    sse: {
      ...(kms !== undefined ? { kms } : {}),
      tls: tls !== undefined,
      allowHttpCustomerKeys: Deno.env.get("SHALE_SSE_C_ALLOW_HTTP") === "on",
    },
    observer: observers.length === 1 ? metrics : combineObservers(observers),
    admin: async (request, url) =>
      (await handleIamAdmin(request, url, { store: iam, region: config.region, sts })) ??
        (await handleKmsAdmin(request, url, { kms, objects, store: iam, region: config.region })) ??
        (await handleHealAdmin(request, url, {
          sequences: healSequences,
          store: iam,
          region: config.region,
        })) ??
        (await metrics.handle(request, url)) ??
        adminNotImplemented(url),
    ...(tls !== undefined ? { tls } : {}),
  });
  phase("listenMs");
  usage.start();
  scanner.start();
  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (bounded), close the drives,
  // exit 0; a second signal exits at once (status 1). Installed before the start-up line so that
  // a signal right after it is handled.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) {
        logger.warn("Second signal: exiting now", { signal });
        Deno.exit(1);
      }
      stopping = true;
      logger.info("Shutting down", { signal });
      const drained = server.shutdown(); // new requests get 503 from here on
      await notifySystemd("STOPPING=1");
      await drained;
      // Background heal stops between objects before the drives close.
      await scanner.close();
      await healSequences.close();
      await healQueue.close();
      await usage.close();
      await objects.close();
      md5Offload.close();
      logger.info("Stopped", {});
      resolve(0);
    };
    Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
    Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  });
  const shown = server.hostname === "0.0.0.0" || server.hostname === "::"
    ? "127.0.0.1"
    : server.hostname.includes(":")
    ? `[${server.hostname}]`
    : server.hostname;
  const endpoint = `${server.scheme}://${shown}:${server.port}`;
  console.log(
    [
      `Shale ${VERSION}`,
      `S3-API: ${endpoint}${
        server.hostname === "0.0.0.0" ? ` (listening on every interface, port ${server.port})` : ""
      }`,
      `Region: ${config.region}`,
      `RootUser: ${credentials.accessKey}`,
      // A secret given in the environment is never printed (stdout goes to the journal); a
      // generated or stored pair is, so that its owner can read it, and dev mode's is public.
      `RootPass: ${
        config.rootCredentials === undefined ||
          (config.dev && credentials.secretKey === DEV_CREDENTIALS.secretKey)
          ? credentials.secretKey
          : "(from SHALE_ROOT_PASSWORD, not shown)"
      }`,
      `Drives: ${config.drives.length} (${config.drives.join(" ")})`,
      // AssumeRoleWithWebIdentity's RoleArn for each OpenID provider with a role policy.
      ...oidc.flatMap((p) =>
        p.roleArn === undefined ? [] : [
          `RoleARN: ${p.roleArn} (OpenID "${p.config.name}", policies ${p.config.rolePolicy})`,
        ]
      ),
      ...(config.dev
        ? [
          `Dev mode: bucket "${DEV_BUCKET}" is ready; these credentials are public, use it only ` +
          `on your own machine`,
          `  aws --endpoint-url ${endpoint} s3 ls s3://${DEV_BUCKET}   ` +
          `(AWS_ACCESS_KEY_ID=${credentials.accessKey} AWS_SECRET_ACCESS_KEY=${credentials.secretKey})`,
        ]
        : []),
      ``,
    ].join("\n"),
  );
  // The machine-readable start-up line tests and scripts wait for.
  phase("bannerMs");
  logger.info("Listening", {
    endpoint,
    hostname: server.hostname,
    port: server.port,
    region: config.region,
    tls: tls !== undefined,
    startup: { ...phases, totalMs: Math.round(performance.now() * 10) / 10 },
  });
  await notifySystemd("READY=1");

  return await stopped;
}

/** A promise's outcome as a value: awaiting it later never throws, and nothing is unhandled. */
function settled<T>(
  p: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }));
}

/** The KMS from SHALE_KMS_SECRET_KEY (or MinIO's name, or a _FILE); with --dev a known dev key. */
async function openKms(dev: boolean): Promise<Kms | undefined> {
  let root = await masterKeyFromEnv((name) => Deno.env.get(name), {
    readTextFile: (path) => Deno.readTextFile(path),
  });
  if (root === undefined && dev) {
    // Not secret: derived from a fixed text so dev data stays readable across restarts.
    const key = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode("shale dev kms key")),
    );
    root = { name: "shale-dev-key", key };
    console.log(
      "SSE: using a development KMS key (not secret); set SHALE_KMS_SECRET_KEY for real use",
    );
  }
  return root === undefined ? undefined : Kms.open(root);
}

/**
 * MinIO's layout: `<certs-dir>/public.crt` and `<certs-dir>/private.key`. Both absent: plain
 * HTTP. One without the other, or an unreadable file, is a start-up error.
 */
async function readCertificates(dir: string): Promise<{ cert: string; key: string } | undefined> {
  const read = async (name: string) => {
    try {
      return await Deno.readTextFile(`${dir}/${name}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw new Error(`Cannot read "${dir}/${name}": ${e instanceof Error ? e.message : e}`);
    }
  };
  const [cert, key] = await Promise.all([read("public.crt"), read("private.key")]);
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    throw new Error(`TLS needs both public.crt and private.key in "${dir}"`);
  }
  return { cert, key };
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
