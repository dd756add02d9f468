// The CLI's exit code for each error code a session or command reports: scripts tell failures apart by it.

export function exitCodeFor(code: string): number {
  switch (code) {
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
    default:
      return 1;
  }
}
