// The daemon's settings that outlive a restart (as qBittorrent keeps its preferences): for now which
// trackers are announced to (tracker/announce-settings.ts). Kept in the state file's kv table as JSON,
// read at start, written at each change through the API (/api/v1/settings, qBittorrent's setPreferences).
import { announceSettingsOf, DEFAULT_ANNOUNCE_SETTINGS, type AnnounceSettings } from "../tracker/announce-settings.ts";
import type { StateStore } from "./state-store.ts";

export type DaemonSettings = AnnounceSettings;

const KEY = "daemon-settings";

/** The settings stored in the state, over the defaults; a stored value it cannot read is logged and left at its default. */
export function storedSettings(store: StateStore, log: (line: string) => void): DaemonSettings {
  const bytes = store.getBlob(KEY);
  if (!bytes) return { ...DEFAULT_ANNOUNCE_SETTINGS };
  try {
    const object = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    if (typeof object !== "object" || object === null || Array.isArray(object)) throw new RangeError("not a JSON object");
    return { ...DEFAULT_ANNOUNCE_SETTINGS, ...announceSettingsOf(object as Record<string, unknown>) };
  } catch (error) {
    log(`${store.path}: the stored settings do not read (${(error as Error).message}); the defaults apply`);
    return { ...DEFAULT_ANNOUNCE_SETTINGS };
  }
}

export function storeSettings(store: StateStore, settings: DaemonSettings): void {
  store.setBlob(KEY, new TextEncoder().encode(JSON.stringify(settings)));
}
