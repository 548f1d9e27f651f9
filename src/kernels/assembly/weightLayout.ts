/**
 * Rewrites q8_0 / q4_0 weight matrices from ggml's plain row layout into the interleaved layout the quantized matvec
 * and matmul kernels read (lib/quantBlocks): rows = groups g of 4 weight rows in [begin, end), each rewritten in
 * place within its own 4·rowBytes bytes, so the model file's bytes in the heap serve as the weights without a copy.
 * w: [rows, cols/32] blocks, groups g < rows/4 rewritten; scratch: [4·rowBytes] bytes (one group, private to the
 * call: run it on one thread, or give each slice its own scratch). cols % 32 == 0.
 */
import { Q8_0, Q4_0, blockBytes, codeBytes, groupBlockBytes } from "./lib/quantBlocks";

export function interleave_rows_q8_0(begin: i32, end: i32, w: usize, scratch: usize, cols: i32): void {
  interleaveGroups(Q8_0, begin, end, w, scratch, cols);
}

export function interleave_rows_q4_0(begin: i32, end: i32, w: usize, scratch: usize, cols: i32): void {
  interleaveGroups(Q4_0, begin, end, w, scratch, cols);
}

// @ts-ignore: decorator
@inline function interleaveGroups(kind: i32, begin: i32, end: i32, w: usize, scratch: usize, cols: i32): void {
  const blocks = cols >> 5;
  const bb = blockBytes(kind);
  const cb = codeBytes(kind);
  const rowBytes = <usize>blocks * bb;
  const groupBytes = rowBytes << 2;
  for (let g = begin; g < end; g++) {
    const group = w + <usize>g * groupBytes;
    memory.copy(scratch, group, groupBytes);
    let dst = group;
    for (let b = 0; b < blocks; b++) {
      for (let k: usize = 0; k < 4; k++) {
        const src = scratch + k * rowBytes + <usize>b * bb;
        store<u16>(dst + (k << 1), load<u16>(src));
        const codes = dst + 8 + k * cb;
        v128.store(codes, v128.load(src + 2));
        if (kind == Q8_0) v128.store(codes + 16, v128.load(src + 18));
      }
      dst += groupBlockBytes(kind);
    }
  }
}

// K-quants: a group block is simply the 4 rows' whole super-blocks one after another (lib/kQuantBlocks.ts); the
// kernels gather each row's scales themselves, so the fields stay as ggml stores them.

export function interleave_rows_q4_k(begin: i32, end: i32, w: usize, scratch: usize, cols: i32): void {
  interleaveWholeBlocks(begin, end, w, scratch, cols >> 8, 144);
}

export function interleave_rows_q5_k(begin: i32, end: i32, w: usize, scratch: usize, cols: i32): void {
  interleaveWholeBlocks(begin, end, w, scratch, cols >> 8, 176);
}

export function interleave_rows_q6_k(begin: i32, end: i32, w: usize, scratch: usize, cols: i32): void {
  interleaveWholeBlocks(begin, end, w, scratch, cols >> 8, 210);
}

// @ts-ignore: decorator
@inline function interleaveWholeBlocks(begin: i32, end: i32, w: usize, scratch: usize, blocks: i32, bb: usize): void {
  const rowBytes = <usize>blocks * bb;
  const groupBytes = rowBytes << 2;
  for (let g = begin; g < end; g++) {
    const group = w + <usize>g * groupBytes;
    memory.copy(scratch, group, groupBytes);
    let dst = group;
    for (let b = 0; b < blocks; b++) {
      for (let k: usize = 0; k < 4; k++) {
        memory.copy(dst, scratch + k * rowBytes + <usize>b * bb, bb);
        dst += bb;
      }
    }
  }
}
