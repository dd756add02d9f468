// The one loopback-address test that the send buffer's bound, the DHT's loopback-only mode and the API's
// token rule all call: every spelling of a loopback address counts, nothing else does.
import { expect, test } from "bun:test";
import { isLoopbackAddress } from "../../peer/net/loopback.ts";

test.each([
  ["127.0.0.1", true],
  ["127.1.2.3", true],
  ["127.255.255.255", true],
  ["::1", true],
  ["::0:1", true],
  ["0::1", true],
  ["0:0:0:0:0:0:0:1", true],
  ["0000:0000:0000:0000:0000:0000:0000:0001", true],
  ["::ffff:127.0.0.1", true],
  ["::FFFF:127.9.9.9", true],
  ["0:0:0:0:0:ffff:127.0.0.1", true],
  ["::ffff:7f00:1", true], // ::ffff:127.0.0.1 written in hex words
  ["[::1]", true], // the parser drops brackets and a zone: the address is the same
  ["::1%lo", true],
  ["0.0.0.0", false], // every interface
  ["::", false], // every interface
  ["0:0:0:0:0:0:0:0", false],
  ["::ffff:0.0.0.0", false],
  ["10.0.0.1", false],
  ["128.0.0.1", false],
  ["126.255.255.255", false],
  ["::ffff:10.0.0.1", false],
  ["::ffff:7e00:1", false],
  ["::127.0.0.1", false], // the deprecated IPv4-compatible form is not the loopback address
  ["::2", false],
  ["1::1", false],
  ["fe80::1", false],
  ["fe80::1%lo", false],
  ["127.0.0.01", false], // leading zeros: octal to inet_aton, refused by the parser
  ["127.0.0.1.nip.io", false],
  ["127.0.0", false],
  ["127.0.0.256", false],
  ["localhost", false], // a name, not an address (api-token.ts's isLoopbackHost takes it)
  [":::1", false],
  ["::1::", false],
  ["1:2:3:4:5:6:7:8:9", false],
  ["::ffff:127.0.0", false],
  ["", false],
  ["garbage", false],
])("%s: loopback %p", (ip, loopback) => {
  expect(isLoopbackAddress(ip)).toBe(loopback);
});
