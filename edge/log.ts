// The tracker's one way to log: a line per event on stderr (console.error, which every runtime has),
// below a level chosen by TRACKER_LOG_LEVEL. Callers pass only what may be shown: peer ids and peer
// addresses never reach a log line, at any level.

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  readonly level: LogLevel;
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => console.error(line)): Logger {
  const at = (lineLevel: LogLevel) => (RANK[lineLevel] <= RANK[level] ? (message: string) => write(`tracker ${lineLevel}: ${message}`) : () => {});
  return { level, error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}
