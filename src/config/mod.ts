export * from "./cli.ts";
export * from "./credentials.ts";
export * from "./ellipsis.ts";
export * from "./limits.ts";
export { VERSION } from "./version.ts";
