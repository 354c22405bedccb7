export {
  healAndCount,
  healBucket,
  type HealCounters,
  healObject,
  HealQueue,
  type HealResult,
  HealTotals,
  newCounters,
} from "./heal.ts";
export { HealScanner, type ScannerOptions, scannerOptionsFromEnv } from "./scanner.ts";
export { type HealProgress, HealSequences, TooManyHealSequences } from "./heal_sequences.ts";
