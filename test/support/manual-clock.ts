// A clock that moves only when the test moves it, for token buckets and rate limits given `now`.

export class ManualClock {
  ms = 1_000;
  readonly now = () => this.ms;
}
