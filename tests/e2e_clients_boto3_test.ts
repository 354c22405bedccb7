/**
 * boto3 (Debian's python3-boto3) against the real server. The Python lives in
 * tests/clients/boto3_suite.py; this file starts one server, runs the script with the endpoint and
 * keys in its environment, and asserts its exit code and the JSON it prints.
 */
import { deepEqual, equal } from "node:assert/strict";
import { startServer } from "./_server.ts";
import { preferBinary, run } from "./clients/_run.ts";

const PYTHON = preferBinary(["/usr/bin/python3"], "python3");
const SUITE = new URL("./clients/boto3_suite.py", import.meta.url).pathname;

/** The checks boto3_suite.py runs, in order; the test fails if any is missing. */
const CHECKS = [
  "creates the bucket",
  "upload_file and download_file round-trip every size byte-exact",
  "upload_file sends a 3-part multipart upload with the multipart ETag",
  "a managed copy of a multipart object uses UploadPartCopy and keeps the bytes",
  "flexible checksums are validated, stored and returned, whole and per part",
  "paginators page ListParts and ListMultipartUploads, each item once",
  "a paginator lists 2,500 keys, each once and in order",
  "presigned GET and PUT URLs work with plain urllib",
  "head_object returns size, ETag, type and metadata",
  "delete_objects removes 2,500 keys in batches and reports each",
  "empties and deletes the bucket",
];

Deno.test({
  name: "boto3 uploads, downloads, paginates, presigns, heads and batch-deletes",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startServer({ drives: 4 });
    const dir = await Deno.makeTempDir({ prefix: "shale-boto3-" });
    try {
      const res = await run(PYTHON, [SUITE], {
        cwd: dir,
        env: {
          HOME: dir,
          SHALE_ENDPOINT: server.endpoint,
          SHALE_ACCESS_KEY: server.accessKey,
          SHALE_SECRET_KEY: server.secretKey,
          SHALE_REGION: server.region,
          SHALE_WORKDIR: dir,
          SHALE_BUCKET: "boto3-suite",
        },
      });
      const last = res.stdout.trim().split("\n").at(-1) ?? "";
      let report: { ok?: boolean; checks?: string[]; failed?: string; error?: string };
      try {
        report = JSON.parse(last);
      } catch {
        throw new Error(
          `boto3 suite printed no JSON (exit ${res.code}):\n${res.stdout}\n${res.stderr}`,
        );
      }
      if (!report.ok) {
        throw new Error(
          `boto3 check failed: ${report.failed}: ${report.error}\n${res.stderr}\n${server.output()}`,
        );
      }
      equal(res.code, 0, res.stderr);
      deepEqual(report.checks, CHECKS);
    } finally {
      await Deno.remove(dir, { recursive: true });
      equal(await server.stop(), 0);
    }
  },
});
