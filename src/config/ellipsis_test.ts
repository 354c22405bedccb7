import { deepEqual, throws } from "node:assert/strict";
import { EllipsisError, expandDriveArgs, expandEllipsis, hasEllipsis } from "./ellipsis.ts";

Deno.test("expands a numeric range into one path per number", () => {
  deepEqual(expandEllipsis("/mnt/disk{1...4}"), [
    "/mnt/disk1",
    "/mnt/disk2",
    "/mnt/disk3",
    "/mnt/disk4",
  ]);
});

Deno.test("expands two ranges with the left-most varying slowest", () => {
  deepEqual(expandEllipsis("/mnt/d{1...2}/x{1...2}"), [
    "/mnt/d1/x1",
    "/mnt/d1/x2",
    "/mnt/d2/x1",
    "/mnt/d2/x2",
  ]);
});

Deno.test("keeps zero padding and expands letter ranges", () => {
  deepEqual(expandEllipsis("/d{08...10}"), ["/d08", "/d09", "/d10"]);
  deepEqual(expandEllipsis("/d{a...c}"), ["/da", "/db", "/dc"]);
});

Deno.test("leaves a path without ranges as it is", () => {
  deepEqual(expandEllipsis("./data"), ["./data"]);
  deepEqual(hasEllipsis("./data"), false);
  deepEqual(hasEllipsis("./d{1...2}"), true);
});

Deno.test("rejects backwards, mixed and duplicated ranges", () => {
  throws(() => expandEllipsis("/d{4...1}"), EllipsisError);
  throws(() => expandEllipsis("/d{1...c}"), EllipsisError);
  throws(() => expandDriveArgs(["/d{1...2}", "/d2"]), EllipsisError);
  throws(() => expandEllipsis("/d{1...100000}"), EllipsisError);
});

Deno.test("concatenates several arguments in order", () => {
  deepEqual(expandDriveArgs(["/a{1...2}", "/b"]), ["/a1", "/a2", "/b"]);
});
