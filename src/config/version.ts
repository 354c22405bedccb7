/**
 * Shale's version. compile.sh stamps it from `git describe` into the compiled binary; from source
 * it is "dev".
 */
export const VERSION = "dev";
