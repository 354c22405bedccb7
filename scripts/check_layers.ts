/**
 * Fails when a module under src/ imports a layer it may not (see shared/DESIGN.md) or when the
 * import graph has a cycle. Reads the graph from `deno info --json`.
 */
const ALLOWED: Record<string, string[]> = {
  util: [],
  config: ["util"],
  wasm: ["util", "config"],
  storage: ["util", "config"],
  crypto: ["util", "config", "wasm"],
  erasure: ["util", "config", "wasm", "storage"],
  object: ["util", "config", "wasm", "storage", "erasure", "crypto"],
  auth: ["util", "config"],
  iam: ["util", "config", "auth", "object"],
  cluster: ["util", "config", "storage", "wasm"],
  background: ["util", "config", "object", "erasure", "storage"],
  s3: ["util", "config", "auth", "iam", "object", "crypto"],
  admin: ["util", "config", "auth", "iam", "object", "background", "s3"],
  console: ["util", "config", "auth", "iam", "object", "admin"],
};

const root = new URL("../", import.meta.url);
const entries: string[] = [];
for await (const e of walk(new URL("src/", root))) entries.push(e);
entries.push(new URL("main.ts", root).pathname);

// `deno info` takes one root: a temp module that imports every entry stands for all of them.
const rootModule = await Deno.makeTempFile({ suffix: ".ts" });
await Deno.writeTextFile(
  rootModule,
  entries.filter(exists).map((p) => `import "file://${p}";`).join("\n") + "\n",
);
const out = await new Deno.Command(Deno.execPath(), {
  args: ["info", "--json", rootModule],
  stdout: "piped",
  stderr: "inherit",
}).output();
await Deno.remove(rootModule);
if (!out.success) Deno.exit(1);
const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
  modules: Array<{ specifier: string; dependencies?: Array<{ code?: { specifier?: string } }> }>;
};

const srcPrefix = new URL("src/", root).href;
function layerOf(spec: string): string | undefined {
  if (!spec.startsWith(srcPrefix)) return undefined;
  return spec.slice(srcPrefix.length).split("/")[0];
}

const problems: string[] = [];
const graph = new Map<string, string[]>();
for (const m of info.modules) {
  const deps = (m.dependencies ?? []).map((d) => d.code?.specifier).filter((s): s is string =>
    typeof s === "string" && s.startsWith("file:")
  );
  graph.set(m.specifier, deps);
  const from = layerOf(m.specifier);
  if (from === undefined) continue;
  const allowed = ALLOWED[from];
  if (allowed === undefined) {
    problems.push(`Unknown layer "${from}" (add it to scripts/check_layers.ts)`);
    continue;
  }
  for (const d of deps) {
    const to = layerOf(d);
    if (to === undefined) {
      if (d.startsWith("file:")) {
        problems.push(`${rel(m.specifier)} imports outside src: ${rel(d)}`);
      }
      continue;
    }
    if (to !== from && !allowed.includes(to)) {
      problems.push(`${rel(m.specifier)} (${from}) may not import ${rel(d)} (${to})`);
    }
  }
}

// Cycle detection over file-level imports inside src/.
const state = new Map<string, 1 | 2>();
function visit(node: string, stack: string[]): void {
  state.set(node, 1);
  for (const d of graph.get(node) ?? []) {
    if (!d.startsWith(srcPrefix)) continue;
    const s = state.get(d);
    if (s === 1) problems.push(`Import cycle: ${[...stack, node, d].map(rel).join(" -> ")}`);
    else if (s === undefined) visit(d, [...stack, node]);
  }
  state.set(node, 2);
}
for (const node of graph.keys()) if (!state.has(node)) visit(node, []);

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  Deno.exit(1);
}
console.log(`check:layers ok (${graph.size} modules)`);

function rel(spec: string): string {
  return spec.startsWith(root.href) ? spec.slice(root.href.length) : spec;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function* walk(dir: URL): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) yield* walk(url);
    else if (
      e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") && !e.name.endsWith("_bench.ts")
    ) {
      yield url.pathname;
    }
  }
}
