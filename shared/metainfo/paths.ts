// Path safety for file names inside a torrent. A torrent's paths become files under the user's
// download folder, so any component that could climb out of it or mean something else on disk is
// REJECTED (the whole torrent refuses to load, with the offending path in the message): `..`, `.`,
// components with `/` or `\` (absolute paths, hidden nesting, Windows separators), NUL bytes and
// Windows drive prefixes. No sane torrent tool writes those, so they signal a broken or hostile file,
// and quietly renaming would write files the user never saw listed.
// Empty components (["a", "", "b"]) are harmless and appear in torrents from some old tools: they are
// SANITISED (dropped) with a warning, as other clients do.
import { MetainfoError } from "./errors.ts";

/** Throws `unsafe-path` unless `component` is a plain, single file or folder name. */
export function checkPathComponent(component: string, where: string): void {
  const bad = unsafeReason(component);
  if (bad)
    throw new MetainfoError("unsafe-path", `${where} ${JSON.stringify(component)} ${bad}; refusing to load a torrent that could write outside its folder`);
}

function unsafeReason(component: string): string | null {
  if (component === "") return "is empty";
  if (component === "." || component === "..") return "refers to a folder above or itself";
  if (component.includes("\0")) return "contains a NUL byte";
  if (component.startsWith("/") || component.startsWith("\\")) return "is an absolute path";
  if (component.includes("/") || component.includes("\\")) return "contains a path separator";
  if (/^[A-Za-z]:/.test(component)) return "starts with a Windows drive letter";
  return null;
}

/**
 * Checks a file's path list. Returns the components to use (empty ones dropped) and a warning when
 * something was dropped; throws when the path is unsafe or has no name left.
 */
export function safeFilePath(components: string[], index: number): { path: string[]; warning?: string } {
  const kept = components.filter((c) => c !== "");
  const where = `file ${index + 1} path component`;
  for (const c of kept) checkPathComponent(c, where);
  if (kept.length === 0) {
    throw new MetainfoError("unsafe-path", `file ${index + 1} has an empty path; the torrent is malformed`);
  }
  if (kept.length === components.length) return { path: kept };
  return { path: kept, warning: `file ${index + 1}: dropped empty path components, using "${kept.join("/")}"` };
}
