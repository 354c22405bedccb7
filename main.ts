// Wiring only: command line -> config -> drives -> object layer -> servers.
import {
  credentialsFilePath,
  loadOrCreateRootCredentials,
  parseCommandLine,
  type ServerConfig,
  UsageError,
  VERSION,
} from "./src/config/mod.ts";
import { openObjectLayer, StartupError } from "./src/object/mod.ts";
import { startS3Server, staticCredentialStore } from "./src/s3/mod.ts";
import { logger } from "./src/util/logger.ts";

async function main(args: string[]): Promise<number> {
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
  let objects;
  try {
    objects = await openObjectLayer({
      drives: config.drives,
      ...(config.standardParity !== undefined ? { standardParity: config.standardParity } : {}),
      ...(config.reducedParity !== undefined ? { reducedParity: config.reducedParity } : {}),
    });
  } catch (e) {
    if (e instanceof StartupError) {
      console.error(`shale: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const server = await startS3Server({
    hostname: config.address.hostname,
    port: config.address.port,
    objects,
    credentials: staticCredentialStore([credentials]),
    region: config.region,
    domains: config.domains,
  });
  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (bounded), close the drives,
  // exit 0. Installed before the start-up line so that a signal right after it is handled.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info("Shutting down", { signal });
      await server.shutdown();
      await objects.close();
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
  const endpoint = `http://${shown}:${server.port}`;
  console.log(
    [
      `Shale ${VERSION}`,
      `S3-API: ${endpoint}${
        server.hostname === "0.0.0.0" ? ` (listening on every interface, port ${server.port})` : ""
      }`,
      `Region: ${config.region}`,
      `RootUser: ${credentials.accessKey}`,
      `RootPass: ${credentials.secretKey}`,
      `Drives: ${config.drives.length} (${config.drives.join(" ")})`,
      ``,
    ].join("\n"),
  );
  // The machine-readable start-up line tests and scripts wait for.
  logger.info("Listening", {
    endpoint,
    hostname: server.hostname,
    port: server.port,
    region: config.region,
  });

  return await stopped;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
