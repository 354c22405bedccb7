/**
 * boto3 (Debian's python3-boto3) against the real server. The Python lives in
 * tests/clients/boto3_suite.py; this file starts one server, runs the script with the endpoint and
 * keys in its environment, and asserts its exit code and the JSON it prints.
 */
import { deepEqual, equal } from "node:assert/strict";
import { startServer } from "./_server.ts";
import { runPythonSuite } from "./clients/_run.ts";

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
    try {
      deepEqual(await runPythonSuite(SUITE, server, "boto3-suite"), CHECKS);
    } finally {
      equal(await server.stop(), 0);
    }
  },
});
