/**
 * Start-up cost is paid only for what is used (issue 6: start-to-ready under 100 ms). A module
 * that only some requests need is loaded by `import()` on first use instead of at start:
 *
 *   const hashWasm = lazy(() => import("hash-wasm"));
 *   const { createCRC32 } = await hashWasm();
 *
 * Keep the specifier a string literal so `deno compile` still embeds the module.
 */

/** Memoises an async loader: the first call starts it, every call shares that promise. */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => loaded ??= load();
}
