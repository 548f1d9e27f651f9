/**
 * A binary max-heap of candidate merges for SentencePiece BPE. The top is the candidate with the highest score
 * and, among equal scores, the smallest left position: exactly the pair llama2.c's quadratic scan would pick
 * (it keeps the first pair whose score is strictly greater than the best so far).
 *
 * Candidates go stale when either side merges again; the queue stores the sides' versions at push time so the
 * encoder can recognise and skip them when they reach the top.
 */

/** One candidate as returned by `pop`; a single reused object, valid until the next `pop`. */
export interface MergeCandidate {
  score: number;
  left: number;
  right: number;
  leftVersion: number;
  rightVersion: number;
  mergedId: number;
}

export class MergeQueue {
  private size = 0;
  // Parallel arrays, one slot per queued candidate; shape [capacity] each.
  private scores: Float32Array;
  private lefts: Int32Array;
  private rights: Int32Array;
  private leftVersions: Int32Array;
  private rightVersions: Int32Array;
  private mergedIds: Int32Array;
  private readonly top: MergeCandidate = { score: 0, left: 0, right: 0, leftVersion: 0, rightVersion: 0, mergedId: 0 };

  constructor(initialCapacity: number) {
    const capacity = Math.max(16, initialCapacity);
    this.scores = new Float32Array(capacity);
    this.lefts = new Int32Array(capacity);
    this.rights = new Int32Array(capacity);
    this.leftVersions = new Int32Array(capacity);
    this.rightVersions = new Int32Array(capacity);
    this.mergedIds = new Int32Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(score: number, left: number, right: number, leftVersion: number, rightVersion: number, mergedId: number): void {
    if (this.size === this.scores.length) this.grow();
    let slot = this.size++;
    // Sift up through a hole: move parents down until the new candidate's place is found, then write it once.
    while (slot > 0) {
      const parent = (slot - 1) >> 1;
      if (!comesFirst(score, left, this.scores[parent]!, this.lefts[parent]!)) break;
      this.copySlot(parent, slot);
      slot = parent;
    }
    this.writeSlot(slot, score, left, right, leftVersion, rightVersion, mergedId);
  }

  /** Removes and returns the best candidate; undefined when empty. */
  pop(): MergeCandidate | undefined {
    if (this.size === 0) return undefined;
    const top = this.top;
    top.score = this.scores[0]!;
    top.left = this.lefts[0]!;
    top.right = this.rights[0]!;
    top.leftVersion = this.leftVersions[0]!;
    top.rightVersion = this.rightVersions[0]!;
    top.mergedId = this.mergedIds[0]!;
    const last = --this.size;
    if (last > 0) this.siftDownFromRoot(last);
    return top;
  }

  /** Moves the candidate in slot `last` into the emptied root and sifts it down through a hole. */
  private siftDownFromRoot(last: number): void {
    const score = this.scores[last]!;
    const left = this.lefts[last]!;
    let slot = 0;
    for (;;) {
      let child = 2 * slot + 1;
      if (child >= last) break;
      const sibling = child + 1;
      if (sibling < last && comesFirst(this.scores[sibling]!, this.lefts[sibling]!, this.scores[child]!, this.lefts[child]!)) {
        child = sibling;
      }
      if (!comesFirst(this.scores[child]!, this.lefts[child]!, score, left)) break;
      this.copySlot(child, slot);
      slot = child;
    }
    // slot < last always, so the moved candidate's own slot was never overwritten.
    this.copySlot(last, slot);
  }

  private copySlot(from: number, to: number): void {
    this.writeSlot(
      to,
      this.scores[from]!,
      this.lefts[from]!,
      this.rights[from]!,
      this.leftVersions[from]!,
      this.rightVersions[from]!,
      this.mergedIds[from]!,
    );
  }

  private writeSlot(slot: number, score: number, left: number, right: number, lv: number, rv: number, mergedId: number): void {
    this.scores[slot] = score;
    this.lefts[slot] = left;
    this.rights[slot] = right;
    this.leftVersions[slot] = lv;
    this.rightVersions[slot] = rv;
    this.mergedIds[slot] = mergedId;
  }

  private grow(): void {
    const capacity = this.scores.length * 2;
    const grown = <T extends Float32Array | Int32Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.scores = grown(this.scores, new Float32Array(capacity));
    this.lefts = grown(this.lefts, new Int32Array(capacity));
    this.rights = grown(this.rights, new Int32Array(capacity));
    this.leftVersions = grown(this.leftVersions, new Int32Array(capacity));
    this.rightVersions = grown(this.rightVersions, new Int32Array(capacity));
    this.mergedIds = grown(this.mergedIds, new Int32Array(capacity));
  }
}

/** The heap order: higher score first; on equal scores the leftmost pair, as llama2.c's scan. */
function comesFirst(score: number, left: number, otherScore: number, otherLeft: number): boolean {
  return score > otherScore || (score === otherScore && left < otherLeft);
}
