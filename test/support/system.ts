// Finding the real programs the integration tests drive, and reporting them as missing the right way:
// skipped with the install command on a developer's machine, failed under CI=true.
import { test } from "bun:test";

const IN_CI = process.env.CI === "true" || process.env.CI === "1";

export interface Program {
  /** What to check: a command on the PATH, or a custom probe. */
  probe: () => boolean;
  /** Shown to the developer: how to get it. */
  install: string;
  label: string;
}

function onPath(command: string): boolean {
  return Bun.which(command) !== null;
}

/** Debian's libtorrent bindings live in Debian's own Python, not whatever python3 is first on the PATH. */
export const DEBIAN_PYTHON = "/usr/bin/python3";

export const PROGRAMS = {
  redis: { label: "redis-server", probe: () => onPath("redis-server"), install: "sudo apt-get install -y redis-server" },
  libtorrent: {
    label: "python3-libtorrent",
    probe: () => Bun.spawnSync([DEBIAN_PYTHON, "-c", "import libtorrent"], { stderr: "ignore", stdout: "ignore" }).exitCode === 0,
    install: "sudo apt-get install -y python3-libtorrent",
  },
  aria2: { label: "aria2c", probe: () => onPath("aria2c"), install: "sudo apt-get install -y aria2" },
  transmission: { label: "transmission-create", probe: () => onPath("transmission-create"), install: "sudo apt-get install -y transmission-cli" },
  transmissionCli: { label: "transmission-cli", probe: () => onPath("transmission-cli"), install: "sudo apt-get install -y transmission-cli" },
  qbittorrent: { label: "qbittorrent-nox", probe: () => onPath("qbittorrent-nox"), install: "sudo apt-get install -y qbittorrent-nox" },
  mktorrent: { label: "mktorrent", probe: () => onPath("mktorrent"), install: "sudo apt-get install -y mktorrent" },
  opentracker: { label: "opentracker", probe: () => onPath("opentracker"), install: "sudo apt-get install -y opentracker" },
  // Socket statistics: what congestion control a connection really uses.
  ss: { label: "ss", probe: () => onPath("ss"), install: "sudo apt-get install -y iproute2" },
  ctorrent: { label: "ctorrent", probe: () => onPath("ctorrent"), install: "sudo apt-get install -y ctorrent" },
  // Prometheus's own checker of the text exposition format (the server is not started: only promtool is used).
  // Debian's Chromium, driven headless by puppeteer-core (which never downloads a browser of its own).
  chromium: { label: "chromium", probe: () => onPath("chromium"), install: "sudo apt-get install -y --no-install-recommends chromium" },
  promtool: { label: "promtool", probe: () => onPath("promtool"), install: "sudo apt-get install -y --no-install-recommends prometheus" },
} satisfies Record<string, Program>;

const checked = new Map<string, boolean>();

/**
 * True when every program is there. Otherwise: under CI a failing test names what is missing; on a
 * developer's machine a skipped test says how to install it. Use as `describe.skipIf(!needs(...))`.
 */
export function needs(...programs: Program[]): boolean {
  const missing = programs.filter((p) => {
    if (!checked.has(p.label)) checked.set(p.label, p.probe());
    return !checked.get(p.label);
  });
  if (missing.length === 0) return true;
  const what = missing.map((p) => p.label).join(", ");
  const how = missing.map((p) => p.install).join(" && ");
  if (IN_CI) {
    test(`${what} is installed (CI must not skip)`, () => {
      throw new Error(`${what} is missing on this CI machine; .ci/run should have installed it: ${how}`);
    });
  } else {
    test.skip(`needs ${what}: install with \`${how}\``, () => {});
    console.warn(`skipping tests that need ${what}; install with: ${how}`);
  }
  return false;
}
