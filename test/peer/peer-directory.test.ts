// PeerDirectory's bans: they hold for an IP whatever the port (an incoming peer's port is whatever its
// system picked, and a fresh one costs nothing), for an IPv4-mapped IPv6 address as for the IPv4 one, and
// for an IPv6 address's whole /64 (the block one subscriber gets).
import { describe, expect, test } from "bun:test";
import { ipKey, PeerDirectory } from "../../peer/swarm/peer-directory.ts";

describe("PeerDirectory bans", () => {
  test("a banned IP is banned on every port, and not dialled again", () => {
    const directory = new PeerDirectory();
    for (const port of [6881, 6882]) directory.add({ ip: "192.0.2.7", port });
    directory.add({ ip: "192.0.2.8", port: 6881 });
    directory.ban("192.0.2.7");
    expect(directory.isBanned("192.0.2.7")).toBe(true);
    expect(directory.isBanned("::ffff:192.0.2.7")).toBe(true);
    expect(directory.isBanned("192.0.2.8")).toBe(false);
    expect(directory.due(0, 10, false)).toEqual([{ ip: "192.0.2.8", port: 6881 }]);
  });

  test("an IPv6 ban covers the address's /64, however the address is written", () => {
    expect(ipKey("2001:DB8:0:1::5")).toBe("2001:db8:0:1::/64");
    expect(ipKey("2001:db8:0000:0001:ffff:1:2:3")).toBe("2001:db8:0:1::/64");
    expect(ipKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(ipKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(ipKey("::1")).toBe("0:0:0:0::/64");
    expect(ipKey("::ffff:10.1.2.3")).toBe("10.1.2.3");
    const directory = new PeerDirectory();
    directory.ban("2001:db8:0:1::5");
    expect(directory.isBanned("2001:db8:0:1:aaaa:bbbb:cccc:dddd")).toBe(true);
    expect(directory.isBanned("2001:db8:0:2::5")).toBe(false);
  });
});
