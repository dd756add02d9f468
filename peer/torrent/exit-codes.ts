// Every error code a torrent or command reports, and the CLI's exit code for each: scripts tell failures
// apart by it. Codes are a closed union: a code nobody listed cannot reach an event or an exit code, and a
// bug (a double release, a broken invariant) is thrown as a plain Error, never given a code.
import type { ListenErrorCode } from "../net/sockets.ts";
import type { StorageErrorCode } from "../storage/errors.ts";

export type TrackerFailureCode = "tracker-unreachable" | "tracker-failure";

export type CliErrorCode = "usage" | "bad-torrent" | "incomplete-data";

export type PeerErrorCode = StorageErrorCode | ListenErrorCode | TrackerFailureCode | CliErrorCode;

export function exitCodeFor(code: PeerErrorCode): number {
  switch (code) {
    case "usage":
      return 2;
    case "bad-torrent":
      return 3;
    case "unwritable":
    case "disk-full":
    case "path-escape":
    case "io":
      return 4;
    case "port-in-use":
    case "address-unavailable":
      return 5;
    case "tracker-unreachable":
    case "tracker-failure":
      return 6;
    case "missing-data":
    case "bad-range":
    case "listen-failed":
    case "incomplete-data":
      return 1;
  }
}
