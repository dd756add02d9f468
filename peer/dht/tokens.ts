// announce_peer tokens (BEP 5): a token is a hash of the asker's IP and a secret that changes every five
// minutes; the current and the previous secret are accepted, so a token lives 5 to 10 minutes. Nothing
// is stored per asker, and a token only works from the address it was given to.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const ROTATE_MS = 5 * 60_000;
const TOKEN_BYTES = 8;

export class TokenManager {
  private current = randomBytes(16);
  private previous = randomBytes(16);
  private rotatedAt: number;

  constructor(private readonly now: () => number = Date.now) {
    this.rotatedAt = now();
  }

  /** The token to give `ip` in a get_peers reply. */
  issue(ip: string): Uint8Array {
    this.rotate();
    return tokenFor(this.current, ip);
  }

  /** Whether `token` came from us, to this `ip`, within the last two secrets. */
  check(token: Uint8Array, ip: string): boolean {
    this.rotate();
    if (token.length !== TOKEN_BYTES) return false;
    return [this.current, this.previous].some((secret) => timingSafeEqual(tokenFor(secret, ip), token));
  }

  private rotate(): void {
    const elapsed = this.now() - this.rotatedAt;
    if (elapsed < ROTATE_MS) return;
    // Two periods or more without a call: both old secrets are stale.
    this.previous = elapsed >= 2 * ROTATE_MS ? randomBytes(16) : this.current;
    this.current = randomBytes(16);
    this.rotatedAt = this.now();
  }
}

function tokenFor(secret: Uint8Array, ip: string): Uint8Array {
  return new Uint8Array(createHash("sha1").update(secret).update(ip).digest().subarray(0, TOKEN_BYTES));
}
