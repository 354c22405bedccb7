import { describeDriveConformance } from "./drive_conformance.ts";
import { FsDrive } from "./fs_drive.ts";
import { MemoryDrive } from "./memory_drive.ts";

describeDriveConformance({
  name: "FsDrive",
  async make() {
    const dir = await Deno.makeTempDir({ prefix: "shale-drive-" });
    return { drive: new FsDrive(dir), cleanup: () => Deno.remove(dir, { recursive: true }) };
  },
});

describeDriveConformance({
  name: "MemoryDrive",
  make() {
    return Promise.resolve({ drive: new MemoryDrive("mem://a"), cleanup: () => Promise.resolve() });
  },
});
