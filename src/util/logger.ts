/**
 * JSON-lines logger for journald. Never pass secrets (secret keys, signatures, SSE keys) as fields.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
const LEVEL_ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

let minLevel: LogLevel = (Deno.env.get("SHALE_LOG_LEVEL") as LogLevel | undefined) ?? "info";
if (!(minLevel in LEVEL_ORDER)) minLevel = "info";
let sink: (line: string) => void = (line) => console.log(line);

export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

export function setLogLevel(level: LogLevel): void {
  minLevel = level;
}

export function log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  if (LEVEL_ORDER[level] < LEVEL_ORDER[minLevel]) return;
  const record: Record<string, unknown> = { time: new Date().toISOString(), level, message };
  for (const [k, v] of Object.entries(fields)) {
    record[k] = v instanceof Error ? `${v.name}: ${v.message}` : v;
  }
  sink(JSON.stringify(record));
}

export const logger = {
  debug: (m: string, f?: Record<string, unknown>) => log("debug", m, f),
  info: (m: string, f?: Record<string, unknown>) => log("info", m, f),
  warn: (m: string, f?: Record<string, unknown>) => log("warn", m, f),
  error: (m: string, f?: Record<string, unknown>) => log("error", m, f),
};
