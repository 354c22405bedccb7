import { deepEqual, equal, throws } from "node:assert/strict";
import { parseExposition, Registry } from "./metrics.ts";

Deno.test("renders counters, gauges and histograms in the text exposition format", () => {
  const r = new Registry();
  const c = r.counter("shale_test_total", "A counter");
  const g = r.gauge("shale_test_gauge", "A gauge");
  const h = r.histogram("shale_test_seconds", "A histogram", [0.1, 1]);
  c.inc({ api: "getobject" });
  c.inc({ api: "getobject" }, 2);
  g.set({}, 5);
  h.observe({ api: "x" }, 0.05);
  h.observe({ api: "x" }, 0.5);
  h.observe({ api: "x" }, 3);
  equal(
    r.render(),
    [
      "# HELP shale_test_total A counter",
      "# TYPE shale_test_total counter",
      'shale_test_total{api="getobject"} 3',
      "# HELP shale_test_gauge A gauge",
      "# TYPE shale_test_gauge gauge",
      "shale_test_gauge 5",
      "# HELP shale_test_seconds A histogram",
      "# TYPE shale_test_seconds histogram",
      'shale_test_seconds_bucket{api="x",le="0.1"} 1',
      'shale_test_seconds_bucket{api="x",le="1"} 2',
      'shale_test_seconds_bucket{api="x",le="+Inf"} 3',
      'shale_test_seconds_sum{api="x"} 3.55',
      'shale_test_seconds_count{api="x"} 3',
      "",
    ].join("\n"),
  );
});

Deno.test("escapes label values and parses them back", () => {
  const r = new Registry();
  r.gauge("shale_drive", "Drives").set({ drive: 'a "b"\\c\nd' }, 1);
  const { samples, types } = parseExposition(r.render());
  deepEqual(samples, [{ name: "shale_drive", labels: { drive: 'a "b"\\c\nd' }, value: 1 }]);
  equal(types.get("shale_drive"), "gauge");
});

Deno.test("refuses a counter going down, a bad name and a family registered twice", () => {
  const r = new Registry();
  const c = r.counter("shale_x_total", "x");
  throws(() => c.inc({}, -1));
  throws(() => r.gauge("bad-name", "x"));
  throws(() => r.counter("shale_x_total", "again"));
  throws(() => parseExposition("shale_x_total{a=b} 1"));
});
