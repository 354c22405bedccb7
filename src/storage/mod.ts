export * from "./drive.ts";
export { FsDrive } from "./fs_drive.ts";
export { MemoryDrive } from "./memory_drive.ts";
export * from "./key_path.ts";
export * from "./records.ts";
export { FAULTY_DRIVES_ENV, FaultyDrivesError, faultyDrivesFromEnv } from "./fault_switch.ts";
