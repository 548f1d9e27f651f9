/**
 * Stop strings over streamed text. Text is released only when it can no longer be the start of a stop string, so a
 * client never receives part of a stop string that the next token would complete; when one appears, the text before
 * it is released and the rest (the stop string included) is dropped, as OpenAI's API does.
 */
export class StopStrings {
  private held = "";
  private stopped = false;

  constructor(private readonly stops: readonly string[]) {}

  /** Whether a stop string has been seen (no more text will be released). */
  get done(): boolean {
    return this.stopped;
  }

  /** Adds generated text; returns the text that is now safe to send (may be ""). */
  push(text: string): string {
    if (this.stopped) return "";
    if (this.stops.length === 0) return text;
    this.held += text;
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.held.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.stopped = true;
      const out = this.held.slice(0, cut);
      this.held = "";
      return out;
    }
    const keep = this.longestStopPrefixAtEnd();
    const out = this.held.slice(0, this.held.length - keep);
    this.held = this.held.slice(this.held.length - keep);
    return out;
  }

  /** The text still held back (generation ended without completing a stop string: it is sent). */
  flush(): string {
    const out = this.stopped ? "" : this.held;
    this.held = "";
    return out;
  }

  /** Length of the longest suffix of the held text that is a proper prefix of some stop string. */
  private longestStopPrefixAtEnd(): number {
    let best = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, this.held.length); n > best; n--) {
        if (this.held.endsWith(stop.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
