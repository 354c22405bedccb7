export { openObjectLayer, openObjectLayerOn, ShaleObjectLayer } from "./object_layer.ts";
export type { ObjectLayerOptions } from "./object_layer.ts";
export { StartupError } from "./errors.ts";
export * from "./errors.ts";
export type * from "./types.ts";
export { LocalLocker } from "./locker.ts";
export type { Locker, Unlock } from "./locker.ts";
export { Md5Offload } from "./md5_offload.ts";
