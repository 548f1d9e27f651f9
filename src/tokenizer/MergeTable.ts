/**
 * (left token id, right token id) -> merge rank, as an open-addressing hash table over typed arrays. A Map keyed by
 * left * vocabSize + right would do, but those keys exceed 2^31 for real vocabularies (128k x 128k), and V8 hashes
 * such keys as heap numbers: building Llama 3's 280k merges that way took seconds. Here it takes milliseconds and
 * 12 bytes per slot, with at most half the slots used.
 */
const EMPTY = -1;

export class MergeTable {
  /** Shape [capacity] each; lefts[slot] = EMPTY marks a free slot. */
  private readonly lefts: Int32Array;
  private readonly rights: Int32Array;
  private readonly ranks: Int32Array;
  private readonly mask: number;

  constructor(expectedEntries: number) {
    let capacity = 16;
    while (capacity < 2 * expectedEntries) capacity *= 2;
    this.lefts = new Int32Array(capacity).fill(EMPTY);
    this.rights = new Int32Array(capacity);
    this.ranks = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  /** Records the pair's rank unless the pair is there already (the first, best rank wins). */
  add(left: number, right: number, rank: number): void {
    for (let slot = this.slotOf(left, right); ; slot = (slot + 1) & this.mask) {
      if (this.lefts[slot] === EMPTY) {
        this.lefts[slot] = left;
        this.rights[slot] = right;
        this.ranks[slot] = rank;
        return;
      }
      if (this.lefts[slot] === left && this.rights[slot] === right) return;
    }
  }

  /** The pair's rank, or -1 when the two tokens never merge. */
  rankOf(left: number, right: number): number {
    for (let slot = this.slotOf(left, right); ; slot = (slot + 1) & this.mask) {
      const stored = this.lefts[slot]!;
      if (stored === EMPTY) return -1;
      if (stored === left && this.rights[slot] === right) return this.ranks[slot]!;
    }
  }

  /** A multiplicative hash of both ids (linear probing needs the low bits well mixed). */
  private slotOf(left: number, right: number): number {
    const h = Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x7f4a7c15, 0x85ebca6b);
    return (h ^ (h >>> 15)) & this.mask;
  }
}
