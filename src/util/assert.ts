/** Thrown when an invariant of Shale itself is broken: a bug, never bad input. */
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Fails loudly when an invariant does not hold (TigerBeetle style: asserts stay in production). */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
