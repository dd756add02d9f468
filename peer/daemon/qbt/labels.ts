// qBittorrent's categories and tags: labels that tools (media managers, ratio tools) put on torrents.
// They mean nothing to the daemon itself, so they live with the compatibility layer, in one JSON file in
// the state dir, written whole to a temporary file and renamed (a crash leaves the old or the new file,
// never half of one). A torrent removed through the native API keeps stale labels until the next
// write, which drops labels of torrents that are gone (`prune`).
import * as fs from "node:fs";
import * as path from "node:path";

export const LABELS_FILE = "qbittorrent-labels.json";

export interface Category {
  name: string;
  savePath: string;
}

interface LabelsData {
  categories: Record<string, { savePath: string }>;
  tags: string[];
  /** Info hash (hex) → its category ("" none) and tags. */
  torrents: Record<string, { category: string; tags: string[] }>;
}

export class LabelError extends Error {
  constructor(
    /** `bad-name`: qBittorrent's 400; `conflict`: its 409. */
    readonly code: "bad-name" | "conflict",
    message: string,
  ) {
    super(message);
  }
}

/** qBittorrent refuses empty names, names with `\`, and path components that are empty or dots. */
function checkCategoryName(name: string): void {
  const parts = name.split("/");
  if (name.length === 0 || name.includes("\\") || parts.some((p) => p.length === 0 || p === "." || p === "..")) {
    throw new LabelError("bad-name", `invalid category name "${name}"`);
  }
}

/** Tags are trimmed, may not be empty or hold a comma (the list separator). */
export function cleanTag(tag: string): string | null {
  const t = tag.trim();
  return t.length === 0 || t.includes(",") ? null : t;
}

export class LabelStore {
  private data: LabelsData;

  /** `file` null keeps labels in memory only (no state dir). */
  constructor(private readonly file: string | null) {
    this.data = file ? readLabels(file) : { categories: {}, tags: [], torrents: {} };
  }

  static inStateDir(stateDir: string): LabelStore {
    return new LabelStore(path.join(stateDir, LABELS_FILE));
  }

  categories(): Category[] {
    return Object.entries(this.data.categories).map(([name, c]) => ({ name, savePath: c.savePath }));
  }

  category(name: string): Category | null {
    const c = this.data.categories[name];
    return c ? { name, savePath: c.savePath } : null;
  }

  createCategory(name: string, savePath: string): void {
    checkCategoryName(name);
    if (this.data.categories[name]) throw new LabelError("conflict", `category "${name}" exists already`);
    this.data.categories[name] = { savePath };
    this.save();
  }

  editCategory(name: string, savePath: string): void {
    if (!this.data.categories[name]) throw new LabelError("conflict", `no category "${name}"`);
    this.data.categories[name] = { savePath };
    this.save();
  }

  removeCategories(names: readonly string[]): void {
    for (const name of names) delete this.data.categories[name];
    for (const t of Object.values(this.data.torrents)) if (names.includes(t.category)) t.category = "";
    this.save();
  }

  tags(): string[] {
    return [...this.data.tags];
  }

  createTags(tags: readonly string[]): void {
    for (const tag of tags) if (!this.data.tags.includes(tag)) this.data.tags.push(tag);
    this.save();
  }

  deleteTags(tags: readonly string[]): void {
    this.data.tags = this.data.tags.filter((t) => !tags.includes(t));
    for (const t of Object.values(this.data.torrents)) t.tags = t.tags.filter((tag) => !tags.includes(tag));
    this.save();
  }

  of(infoHash: string): { category: string; tags: readonly string[] } {
    return this.data.torrents[infoHash] ?? { category: "", tags: [] };
  }

  /** Sets the torrents' category ("" for none); an unknown category is qBittorrent's 409. */
  setCategory(infoHashes: readonly string[], category: string): void {
    if (category !== "" && !this.data.categories[category]) throw new LabelError("conflict", `no category "${category}"`);
    for (const hash of infoHashes) this.entry(hash).category = category;
    this.save();
  }

  /** Adds tags to torrents, creating the tags that do not exist yet (as qBittorrent does). */
  addTags(infoHashes: readonly string[], tags: readonly string[]): void {
    for (const tag of tags) if (!this.data.tags.includes(tag)) this.data.tags.push(tag);
    for (const hash of infoHashes) {
      const entry = this.entry(hash);
      for (const tag of tags) if (!entry.tags.includes(tag)) entry.tags.push(tag);
    }
    this.save();
  }

  /** Removes tags from torrents; no tags named: all of theirs. */
  removeTags(infoHashes: readonly string[], tags: readonly string[]): void {
    for (const hash of infoHashes) {
      const entry = this.data.torrents[hash];
      if (entry) entry.tags = tags.length === 0 ? [] : entry.tags.filter((t) => !tags.includes(t));
    }
    this.save();
  }

  forget(infoHashes: readonly string[]): void {
    for (const hash of infoHashes) delete this.data.torrents[hash];
    this.save();
  }

  /** Drops the labels of torrents no longer present. */
  prune(present: ReadonlySet<string>): void {
    for (const hash of Object.keys(this.data.torrents)) if (!present.has(hash)) delete this.data.torrents[hash];
  }

  private entry(infoHash: string): { category: string; tags: string[] } {
    this.data.torrents[infoHash] ??= { category: "", tags: [] };
    return this.data.torrents[infoHash];
  }

  private save(): void {
    if (!this.file) return;
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.data), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}

function readLabels(file: string): LabelsData {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { categories: {}, tags: [], torrents: {} };
    throw error;
  }
  try {
    const data = JSON.parse(text) as LabelsData;
    if (typeof data.categories !== "object" || !Array.isArray(data.tags) || typeof data.torrents !== "object") throw new Error("unexpected shape");
    return data;
  } catch (error) {
    throw new Error(`${file} is damaged (${(error as Error).message}); move it away to start with no categories and tags`);
  }
}
