/**
 * Small llama2.c files written byte by byte from their documented layouts, independent of the readers under test.
 */

/**
 * A tiny untied checkpoint built by hand from the documented layout (ATTRIBUTION.md of stories260K): every weight
 * block filled with its own marker value, so a misplaced tensor shows up as a wrong value.
 */
export function handMadeCheckpoint(): Uint8Array {
  const [dim, hidden, layers, heads, kvHeads, vocab, seqLen] = [8, 12, 2, 2, 1, 10, 6];
  const kvDim = (dim / heads) * kvHeads;
  const headSize = dim / heads;
  const blocks: [number, number][] = [
    [vocab * dim, 1], // token_embedding
    [layers * dim, 2], // rms_att
    [layers * dim * dim, 3], // wq
    [layers * kvDim * dim, 4], // wk
    [layers * kvDim * dim, 5], // wv
    [layers * dim * dim, 6], // wo
    [layers * dim, 7], // rms_ffn
    [layers * hidden * dim, 8], // w1
    [layers * dim * hidden, 9], // w2
    [layers * hidden * dim, 10], // w3
    [dim, 11], // rms_final
    [seqLen * headSize, 0], // freq_cis_real + freq_cis_imag (seq_len * head_size/2 each)
    [vocab * dim, 12], // wcls, present because vocab_size is stored negative
  ];
  const floats = blocks.flatMap(([count, marker]) => Array<number>(count).fill(marker));
  const bytes = new Uint8Array(28 + floats.length * 4);
  const view = new DataView(bytes.buffer);
  [dim, hidden, layers, heads, kvHeads, -vocab, seqLen].forEach((v, i) => view.setInt32(i * 4, v, true));
  floats.forEach((v, i) => view.setFloat32(28 + i * 4, v, true));
  return bytes;
}

/** A tokenizer file written by hand: max_token_length, then (score, length, bytes) per token. */
export function tokenizerBytes(maxLength: number, records: [number, number[]][]): Uint8Array {
  const size = 4 + records.reduce((sum, [, bytes]) => sum + 8 + bytes.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setInt32(0, maxLength, true);
  let at = 4;
  for (const [score, bytes] of records) {
    view.setFloat32(at, score, true);
    view.setInt32(at + 4, bytes.length, true);
    out.set(bytes, at + 8);
    at += 8 + bytes.length;
  }
  return out;
}

