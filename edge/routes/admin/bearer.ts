// The admin bearer token check. Comparing the presented token with the configured one character by
// character would leak, through timing, how much of it matched; instead both are put through
// HMAC-SHA-256 under a key random to this process and the fixed-length digests are compared in full.
// Web Crypto only (edge/ has no node:crypto).

export class BearerToken {
  private readonly key: Promise<CryptoKey>;
  private readonly expected: Promise<Uint8Array>;

  constructor(token: string) {
    this.key = crypto.subtle.importKey("raw", crypto.getRandomValues(new Uint8Array(32)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    this.expected = this.digest(token);
  }

  /** Whether the Authorization header is `Bearer <the token>`. */
  async admits(authorization: string | undefined): Promise<boolean> {
    const presented = /^Bearer +(\S+) *$/i.exec(authorization ?? "")?.[1] ?? "";
    const [a, b] = await Promise.all([this.digest(presented), this.expected]);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
    return diff === 0;
  }

  private async digest(text: string): Promise<Uint8Array> {
    return new Uint8Array(await crypto.subtle.sign("HMAC", await this.key, new TextEncoder().encode(text)));
  }
}
