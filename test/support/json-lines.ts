// The --json events a child process prints, one JSON object a line, among whatever else it logs.
import type { Service } from "./processes.ts";

/** The object a line holds, or undefined for any other line (a log line, one cut short). */
export function jsonLine<T>(line: string): T | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}

/** Every event the process printed so far, in order. */
export function jsonLines<T>(service: Service): T[] {
  return service.lines.map((l) => jsonLine<T>(l)).filter((e): e is T => e !== undefined);
}

/** The first event (past or future) that `predicate` accepts. */
export async function waitForJson<T>(service: Service, predicate: (e: T) => boolean, timeoutMs: number): Promise<T> {
  const line = await service.waitForLine((l) => {
    const e = jsonLine<T>(l);
    return e !== undefined && predicate(e);
  }, timeoutMs);
  return jsonLine<T>(line)!;
}
