// Logins for the qBittorrent API: `auth/login` with the daemon's token as the password hands out an SID
// cookie, as qBittorrent does. Bounded: a fixed number of live sessions (the least recently used goes),
// an idle expiry, and addresses that fail to log in too often are refused for a while (qBittorrent bans
// an address after repeated failures too), so the token cannot be guessed at speed.
import { randomBytes } from "node:crypto";
import { tokenMatches } from "../api-token.ts";

const MAX_SESSIONS = 64;
const IDLE_MS = 60 * 60 * 1000;
const MAX_FAILURES = 5;
const FAILURE_WINDOW_MS = 10 * 60 * 1000;
const MAX_TRACKED_ADDRESSES = 1024;

export type LoginResult = "ok" | "fails" | "banned";

export class QbtSessions {
  /** SID → last use (ms); Map order = least recently used first. */
  private readonly sessions = new Map<string, number>();
  /** Address → failures within the window and when the window began. */
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly token: string,
    private readonly now: () => number = Date.now,
  ) {}

  login(password: string | undefined, address: string): { result: LoginResult; sid?: string } {
    const t = this.now();
    const record = this.failures.get(address);
    if (record && t - record.since > FAILURE_WINDOW_MS) this.failures.delete(address);
    if ((this.failures.get(address)?.count ?? 0) >= MAX_FAILURES) return { result: "banned" };
    if (!tokenMatches(this.token, password)) {
      this.failed(address, t);
      return { result: "fails" };
    }
    this.failures.delete(address);
    const sid = randomBytes(24).toString("base64url");
    this.sessions.set(sid, t);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return { result: "ok", sid };
  }

  logout(sid: string | undefined): void {
    if (sid) this.sessions.delete(sid);
  }

  /** Whether the SID names a live session; a use renews it. */
  valid(sid: string | undefined): boolean {
    if (!sid) return false;
    const last = this.sessions.get(sid);
    if (last === undefined) return false;
    const t = this.now();
    this.sessions.delete(sid);
    if (t - last > IDLE_MS) return false;
    this.sessions.set(sid, t);
    return true;
  }

  private failed(address: string, t: number): void {
    const record = this.failures.get(address) ?? { count: 0, since: t };
    record.count++;
    this.failures.delete(address);
    this.failures.set(address, record);
    if (this.failures.size > MAX_TRACKED_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
  }
}
