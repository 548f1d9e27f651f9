/**
 * The fp32 reference of a task: what the full-precision cache produced on exactly the tokens a run scores, computed
 * once and compared against by every cache. Two parts:
 *   rows    [rows, vocab] float32 log-probabilities of every scored position, in the task's canonical order
 *           (choice: item, choice, token; perplexity: window, position; generation: none), for KL and top-1;
 *   detail  the small per-item data every metric needs (choice log-likelihoods, perplexity NLLs, greedy outputs).
 * Rows live in memory (one `qaq eval`) or in a file beside the sweep's output (referenceFile.ts).
 */
export type ReferenceDetail =
  /** logliks[item][choice][token] */
  | { readonly kind: "choice"; readonly logliks: readonly (readonly (readonly number[])[])[] }
  /** nll[row]: -log p of each scored position's target */
  | { readonly kind: "perplexity"; readonly nll: readonly number[] }
  /** outputs[prompt]: the greedy tokens after the prompt (ending at EOS or the length limit) */
  | { readonly kind: "generation"; readonly outputs: readonly (readonly number[])[] };

export interface ReferenceMeta {
  readonly key: string;
  readonly version: string;
  readonly model: string;
  readonly modelBytes: number;
  readonly task: string;
  readonly data: string;
  readonly dataBytes: number;
  readonly items: number;
  readonly limit: number | null;
  readonly seed: number;
  readonly scoring: string;
  readonly ctx: number | null;
  readonly vocab: number;
  readonly rows: number;
  /** seconds the fp32 run took (progress estimates weigh jobs by it) */
  readonly seconds: number;
  readonly detail: ReferenceDetail;
}

/** Where a reference computation puts its rows. */
export interface RowSink {
  /** appends one [vocab] row (copied) */
  write(logProbs: Float32Array): void;
  readonly rows: number;
}

export interface TaskReference {
  readonly meta: ReferenceMeta;
  /** row `index` as a [vocab] view, valid until the next call */
  row(index: number): Float32Array;
  close(): void;
}

/** Rows kept in memory: [rows, vocab] in chunks that grow by doubling. */
export class MemoryRows implements RowSink {
  private data: Float32Array;
  rows = 0;

  constructor(private readonly vocab: number) {
    this.data = new Float32Array(vocab * 64);
  }

  write(logProbs: Float32Array): void {
    const end = (this.rows + 1) * this.vocab;
    if (end > this.data.length) {
      const grown = new Float32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(logProbs.subarray(0, this.vocab), this.rows * this.vocab);
    this.rows++;
  }

  reference(meta: ReferenceMeta): TaskReference {
    const { data, vocab } = this;
    return {
      meta,
      row: (index) => data.subarray(index * vocab, (index + 1) * vocab),
      close: () => undefined,
    };
  }
}
