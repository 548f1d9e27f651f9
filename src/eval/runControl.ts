/**
 * Progress and interruption of an evaluation pass, item by item (a choice item, a perplexity window, a generation
 * prompt): `onItem` after each one (a progress bar), and when `signal` is aborted (Ctrl-C) the pass stops after the
 * current item and reports over the items done, marked partial. The event loop gets a turn every ~0.1 s so that a
 * signal handler can run at all.
 */
import { EventLoopYield } from "../util/eventLoopYield.js";
import { InterruptedError } from "../util/errors.js";

export interface RunControl {
  readonly signal?: AbortSignal;
  readonly onItem?: (done: number, total: number) => void;
}

export class ItemLoop {
  private readonly turns = new EventLoopYield();
  private done = 0;
  /** set when the pass stopped early */
  stopped = false;

  constructor(
    private readonly control: RunControl | undefined,
    readonly total: number,
  ) {}

  /** Marks one more item done; resolves to true when the pass must stop now. */
  async itemDone(): Promise<boolean> {
    this.done++;
    this.control?.onItem?.(this.done, this.total);
    if (this.control?.signal === undefined) return false;
    await this.turns.maybe();
    this.stopped = this.control.signal.aborted && this.done < this.total;
    return this.stopped;
  }

  /**
   * The same for an item of the fp32 reference pass, which comes before any item is scored under the cache being
   * evaluated: a Ctrl-C there leaves nothing to report, so it ends in an InterruptedError saying so.
   */
  async referenceItemDone(): Promise<void> {
    if (!(await this.itemDone())) return;
    const signal = String(this.control!.signal!.reason ?? "SIGINT");
    throw new InterruptedError(
      signal,
      `interrupted (${signal}) before any item was scored: the fp32 reference pass had done ${this.done} of ${this.total} items`,
    );
  }
}
