/**
 * Lets signal handlers and timers run during long synchronous work (scoring thousands of tokens): `maybe()`
 * resolves after one turn of the event loop when `intervalMs` have passed since the last turn, else at once, so a
 * Ctrl-C handler gets its chance every ~0.1 s at a cost of ~1% (setTimeout, which browsers have too).
 */
export class EventLoopYield {
  private last = performance.now();

  constructor(private readonly intervalMs = 100) {}

  async maybe(): Promise<void> {
    const now = performance.now();
    if (now - this.last < this.intervalMs) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.last = performance.now();
  }
}
