export * from "./errors.ts";
export * from "./stream.ts";
export * from "./keys.ts";
export * from "./kms.ts";
export * from "./ssec.ts";
export * from "./object_key.ts";
export * from "./parts_mac.ts";
