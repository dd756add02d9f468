// The compiled btpeer (dist/btpeer, what `npm run build` makes and users run) for the encryption tests:
// built once here when it is missing, with the same command as the build script (hashing workers included).
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../peer/btpeer-harness.ts";

export const BTPEER_BINARY = path.join(ROOT, "dist", "btpeer");

export function ensureBinary(): string {
  if (fs.existsSync(BTPEER_BINARY)) return BTPEER_BINARY;
  const r = Bun.spawnSync([process.execPath, "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`npm run build failed:\n${r.stderr.toString()}`);
  return BTPEER_BINARY;
}
