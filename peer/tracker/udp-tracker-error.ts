// The one error class of the UDP tracker client (BEP 15). A hostile or broken datagram never becomes
// one by itself: replies that do not fit are dropped and, if nothing better came, reported as
// "bad-reply" once the retransmission schedule has run out.
export type UdpTrackerErrorCode =
  | "bad-url" // not udp://host:port[/path]
  | "unresolvable" // the host name did not resolve
  | "no-socket" // no UDP socket of the tracker's address family could be bound (e.g. no IPv6)
  | "send-failed" // the system refused to send the datagram (no route, family not supported)
  | "unreachable" // the system reported an ICMP error for the tracker (port unreachable: ECONNREFUSED)
  | "busy" // the table of outstanding requests is full
  | "tracker-error" // the tracker answered with an error packet; the message is its text
  | "bad-reply" // only replies we could not take (malformed, wrong action, wrong count) came back
  | "timeout" // no reply after every attempt of the schedule
  | "aborted" // the caller's signal fired
  | "closed"; // the client was closed while waiting

export class UdpTrackerError extends Error {
  override readonly name = "UdpTrackerError";
  constructor(
    readonly code: UdpTrackerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
