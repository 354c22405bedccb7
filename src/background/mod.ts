export { healBucket, type HealCounters, healObject, HealQueue, type HealResult } from "./heal.ts";
