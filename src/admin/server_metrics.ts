/**
 * Shale's metrics under MinIO's v2 names, so MinIO's Grafana dashboards and alerts work:
 * `/minio/v2/metrics/cluster` (requests, traffic, time to first byte, drives, capacity, usage),
 * `/minio/v2/metrics/node` (requests, per-drive space, process) and `/minio/v2/metrics/bucket`
 * (usage per bucket). Request figures come from the S3 layer through `RequestObserver`; drive
 * figures from `ObjectLayer.status()` at scrape time; usage from the background `UsageScanner`.
 */
import type { HealTotals } from "../background/mod.ts";
import type { ObjectLayer } from "../object/mod.ts";
import type { CredentialStore, RequestObserver, RequestRecord } from "../s3/mod.ts";
import { EXPOSITION_CONTENT_TYPE, Registry } from "./metrics.ts";
import { prometheusAllowed, type PrometheusAuthType } from "./prometheus_auth.ts";
import type { UsageScanner } from "./usage.ts";

/** Seconds; MinIO's TTFB distribution uses similar bounds. */
const TTFB_BOUNDS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Operations after which usage may have changed. */
const WRITES = new Set([
  "PutObject",
  "CopyObject",
  "DeleteObject",
  "DeleteObjects",
  "CompleteMultipartUpload",
  "CreateBucket",
  "DeleteBucket",
  "PostObject",
]);

/** Operations whose failure is an authentication failure. */
const AUTH_ERRORS = new Set([
  "AccessDenied",
  "SignatureDoesNotMatch",
  "InvalidAccessKeyId",
  "AuthorizationHeaderMalformed",
  "ExpiredToken",
  "RequestTimeTooSkewed",
]);

export interface ServerMetricsOptions {
  objects: ObjectLayer;
  credentials: CredentialStore;
  authType: PrometheusAuthType;
  usage?: UsageScanner;
  /** Every heal of the process (heal on read, the scanner, admin heals). */
  heal?: HealTotals;
}

export class ServerMetrics implements RequestObserver {
  readonly #opts: ServerMetricsOptions;
  readonly #startedSeconds = Date.now() / 1000;
  readonly registry = new Registry();

  readonly #requests = this.registry.counter(
    "minio_s3_requests_total",
    "Total number of S3 requests, by API",
  );
  readonly #errors = this.registry.counter(
    "minio_s3_requests_errors_total",
    "Total number of S3 requests with (4xx and 5xx) errors, by API",
  );
  readonly #errors4xx = this.registry.counter(
    "minio_s3_requests_4xx_errors_total",
    "Total number of S3 requests with (4xx) errors, by API",
  );
  readonly #errors5xx = this.registry.counter(
    "minio_s3_requests_5xx_errors_total",
    "Total number of S3 requests with (5xx) errors, by API",
  );
  readonly #rejectedAuth = this.registry.counter(
    "minio_s3_requests_rejected_auth_total",
    "Total number of S3 requests rejected for auth failure",
  );
  readonly #byStatus = this.registry.counter(
    "shale_s3_requests_by_status_total",
    "Total number of S3 requests, by API and HTTP status (no MinIO equivalent)",
  );
  readonly #received = this.registry.counter(
    "minio_s3_traffic_received_bytes",
    "Total number of S3 bytes received (request bodies)",
  );
  readonly #sent = this.registry.counter(
    "minio_s3_traffic_sent_bytes",
    "Total number of S3 bytes sent (response bodies)",
  );
  readonly #ttfb = this.registry.histogram(
    "minio_s3_requests_ttfb_seconds_distribution",
    "Distribution of the time to first byte across API calls",
    TTFB_BOUNDS_SECONDS,
  );
  readonly #drivesOnline = this.registry.gauge(
    "minio_cluster_drive_online_total",
    "Total drives online in this cluster",
  );
  readonly #drivesOffline = this.registry.gauge(
    "minio_cluster_drive_offline_total",
    "Total drives offline in this cluster",
  );
  readonly #drivesTotal = this.registry.gauge(
    "minio_cluster_drive_total",
    "Total drives in this cluster",
  );
  readonly #rawFree = this.registry.gauge(
    "minio_cluster_capacity_raw_free_bytes",
    "Total free capacity online in the cluster",
  );
  readonly #rawTotal = this.registry.gauge(
    "minio_cluster_capacity_raw_total_bytes",
    "Total capacity online in the cluster",
  );
  readonly #healthWrite = this.registry.gauge(
    "minio_cluster_health_status",
    "Is the cluster writable (1) or not (0)",
  );
  readonly #bucketTotal = this.registry.gauge(
    "minio_cluster_bucket_total",
    "Total number of buckets in the cluster",
  );
  readonly #usageObjects = this.registry.gauge(
    "minio_cluster_usage_object_total",
    "Total number of objects in the cluster (last usage scan)",
  );
  readonly #usageBytes = this.registry.gauge(
    "minio_cluster_usage_total_bytes",
    "Total cluster usage in bytes (last usage scan)",
  );
  readonly #bucketObjects = this.registry.gauge(
    "minio_bucket_usage_object_total",
    "Total number of objects, by bucket (last usage scan)",
  );
  readonly #bucketBytes = this.registry.gauge(
    "minio_bucket_usage_total_bytes",
    "Total bucket size in bytes, by bucket (last usage scan)",
  );
  readonly #scanAge = this.registry.gauge(
    "minio_usage_last_activity_nano_seconds",
    "Time elapsed (in nano seconds) since the last usage scan finished",
  );
  readonly #healScanned = this.registry.counter(
    "minio_heal_objects_total",
    "Objects scanned by heal (on read, by the scanner, and started by an admin)",
  );
  readonly #healHealed = this.registry.counter(
    "minio_heal_objects_heal_total",
    "Objects healed (drives with missing or bad shards or records rewritten)",
  );
  readonly #healErrors = this.registry.counter(
    "minio_heal_objects_error_total",
    "Objects heal could not bring back to every drive",
  );
  readonly #healAge = this.registry.gauge(
    "minio_heal_time_last_activity_nano_seconds",
    "Time elapsed (in nano seconds) since heal last checked an object",
  );
  readonly #driveFree = this.registry.gauge(
    "minio_node_drive_free_bytes",
    "Total storage available on a drive",
  );
  readonly #driveTotal = this.registry.gauge(
    "minio_node_drive_total_bytes",
    "Total storage on a drive",
  );
  readonly #driveUsed = this.registry.gauge(
    "minio_node_drive_used_bytes",
    "Total storage used on a drive",
  );
  readonly #driveOnline = this.registry.gauge(
    "minio_node_drive_online",
    "Is the drive online (1) or not (0) (no MinIO v2 equivalent per drive)",
  );
  readonly #startTime = this.registry.gauge(
    "minio_node_process_starttime_seconds",
    "Start time for the server process, in seconds since the epoch",
  );
  readonly #uptime = this.registry.gauge(
    "minio_node_process_uptime_seconds",
    "Uptime for the server process in seconds",
  );
  readonly #rss = this.registry.gauge(
    "minio_node_process_resident_memory_bytes",
    "Resident memory size in bytes",
  );

  constructor(opts: ServerMetricsOptions) {
    this.#opts = opts;
  }

  requestDone(r: RequestRecord): void {
    // MinIO's `api` label is the handler name in lower case: getobject, listobjectsv2, ...
    const api = { api: r.operation.toLowerCase() };
    this.#requests.inc(api);
    this.#byStatus.inc({ ...api, status: String(r.status) });
    if (r.status >= 400) {
      this.#errors.inc(api);
      if (r.status < 500) this.#errors4xx.inc(api);
      else this.#errors5xx.inc(api);
      if (r.errorCode !== undefined && AUTH_ERRORS.has(r.errorCode)) this.#rejectedAuth.inc();
    }
    this.#received.inc({}, r.bytesIn);
    this.#sent.inc({}, r.bytesOut);
    this.#ttfb.observe(api, r.ttfbMs / 1000);
    if (WRITES.has(r.operation) && r.status < 300) this.#opts.usage?.changed();
  }

  /** Answers the metrics paths (the admin hook of the S3 server); undefined for any other path. */
  async handle(request: Request, url: URL): Promise<Response | undefined> {
    const which = /^\/minio\/v2\/metrics\/(cluster|node|bucket)\/?$/.exec(url.pathname)?.[1];
    if (which === undefined) return undefined;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const allowed = await prometheusAllowed(request, {
      authType: this.#opts.authType,
      credentials: this.#opts.credentials,
    });
    if (!allowed) {
      return new Response(
        JSON.stringify({ Code: "AccessDenied", Message: "Access Denied: bearer token required" }),
        { status: 403, headers: { "content-type": "application/json" } },
      );
    }
    const body = await this.render(which as "cluster" | "node" | "bucket");
    return new Response(request.method === "HEAD" ? null : body, {
      headers: { "content-type": EXPOSITION_CONTENT_TYPE },
    });
  }

  /** One endpoint's exposition, with drive and usage figures refreshed. */
  async render(which: "cluster" | "node" | "bucket"): Promise<string> {
    await this.#refresh();
    const requests = [
      "minio_s3_requests_total",
      "minio_s3_requests_errors_total",
      "minio_s3_requests_4xx_errors_total",
      "minio_s3_requests_5xx_errors_total",
      "minio_s3_requests_rejected_auth_total",
      "shale_s3_requests_by_status_total",
      "minio_s3_traffic_received_bytes",
      "minio_s3_traffic_sent_bytes",
      "minio_s3_requests_ttfb_seconds_distribution",
    ];
    const heal = [
      "minio_heal_objects_total",
      "minio_heal_objects_heal_total",
      "minio_heal_objects_error_total",
      "minio_heal_time_last_activity_nano_seconds",
    ];
    const usage = [
      "minio_bucket_usage_object_total",
      "minio_bucket_usage_total_bytes",
      "minio_usage_last_activity_nano_seconds",
    ];
    if (which === "bucket") return this.registry.render(usage);
    if (which === "node") {
      return this.registry.render([
        ...requests,
        "minio_node_drive_free_bytes",
        "minio_node_drive_total_bytes",
        "minio_node_drive_used_bytes",
        "minio_node_drive_online",
        "minio_node_process_starttime_seconds",
        "minio_node_process_uptime_seconds",
        "minio_node_process_resident_memory_bytes",
        ...heal,
      ]);
    }
    return this.registry.render([
      ...requests,
      "minio_cluster_drive_online_total",
      "minio_cluster_drive_offline_total",
      "minio_cluster_drive_total",
      "minio_cluster_capacity_raw_free_bytes",
      "minio_cluster_capacity_raw_total_bytes",
      "minio_cluster_health_status",
      "minio_cluster_bucket_total",
      "minio_cluster_usage_object_total",
      "minio_cluster_usage_total_bytes",
      ...heal,
      ...usage,
    ]);
  }

  async #refresh(): Promise<void> {
    const status = await this.#opts.objects.status();
    let online = 0, free = 0, total = 0;
    for (const g of [this.#driveFree, this.#driveTotal, this.#driveUsed, this.#driveOnline]) {
      g.reset();
    }
    for (const d of status.drives) {
      const drive = { drive: d.path };
      const up = d.state === "ok";
      this.#driveOnline.set(drive, up ? 1 : 0);
      if (!up) continue;
      online++;
      if (d.freeBytes !== undefined && d.totalBytes !== undefined) {
        free += d.freeBytes;
        total += d.totalBytes;
        this.#driveFree.set(drive, d.freeBytes);
        this.#driveTotal.set(drive, d.totalBytes);
        this.#driveUsed.set(drive, d.totalBytes - d.freeBytes);
      }
    }
    this.#drivesOnline.set({}, online);
    this.#drivesOffline.set({}, status.drives.length - online);
    this.#drivesTotal.set({}, status.drives.length);
    this.#rawFree.set({}, free);
    this.#rawTotal.set({}, total);
    this.#healthWrite.set({}, status.writable ? 1 : 0);
    this.#startTime.set({}, this.#startedSeconds);
    this.#uptime.set({}, Date.now() / 1000 - this.#startedSeconds);
    this.#rss.set({}, Deno.memoryUsage().rss);

    const heal = this.#opts.heal;
    if (heal !== undefined) {
      const c = heal.counters;
      this.#healScanned.inc({}, c.scanned - this.#healScanned.get());
      this.#healHealed.inc({}, c.healed - this.#healHealed.get());
      this.#healErrors.inc({}, c.failed - this.#healErrors.get());
      this.#healAge.reset();
      if (heal.lastActivityMs !== undefined) {
        this.#healAge.set({}, (Date.now() - heal.lastActivityMs) * 1e6);
      }
    }

    const snap = this.#opts.usage?.snapshot;
    this.#bucketObjects.reset();
    this.#bucketBytes.reset();
    this.#scanAge.reset();
    if (snap === undefined) return;
    let objects = 0, bytes = 0;
    for (const [bucket, u] of snap.buckets) {
      this.#bucketObjects.set({ bucket }, u.objects);
      this.#bucketBytes.set({ bucket }, u.bytes);
      objects += u.objects;
      bytes += u.bytes;
    }
    this.#bucketTotal.set({}, snap.buckets.size);
    this.#usageObjects.set({}, objects);
    this.#usageBytes.set({}, bytes);
    this.#scanAge.set({}, (Date.now() - snap.finished.getTime()) * 1e6);
  }
}
