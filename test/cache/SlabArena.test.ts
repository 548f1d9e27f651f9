import { test } from "node:test";
import assert from "node:assert/strict";
import { WasmHeap } from "../../src/kernels/WasmHeap.js";
import { SlabArena } from "../../src/cache/SlabArena.js";
import { trackHeap } from "./trackHeap.js";

/** Writes a recognisable pattern into a slot and checks it later: slots must never overlap. */
function stamp(heap: WasmHeap, ptr: number, size: number, tag: number): void {
  new Uint8Array(heap.memory.buffer, ptr, size).fill(tag & 0xff);
}
function hasStamp(heap: WasmHeap, ptr: number, size: number, tag: number): boolean {
  return new Uint8Array(heap.memory.buffer, ptr, size).every((b) => b === (tag & 0xff));
}

test("slots of one class are distinct, exactly sized, even-aligned for even sizes, and reused after release", () => {
  const heap = WasmHeap.create(4);
  const arena = new SlabArena(heap, "test");
  const size = 10; // stored at exactly 10 bytes (no rounding up)
  assert.equal(SlabArena.slotSize(size), 10);
  const slots = Array.from({ length: 100 }, () => arena.take(size));
  assert.equal(new Set(slots).size, 100);
  for (const ptr of slots) assert.equal(ptr % 2, 0); // u16 outlier fields inside an even-sized slot stay aligned
  slots.forEach((ptr, i) => stamp(heap, ptr, 10, i + 1));
  slots.forEach((ptr, i) => assert.ok(hasStamp(heap, ptr, 10, i + 1), `slot ${i} was overwritten`));
  assert.equal(arena.liveSlots(size), 100);
  arena.release(size, slots[7]!);
  arena.release(size, slots[42]!);
  const reused = [arena.take(size), arena.take(size)].sort();
  assert.deepEqual(reused, [slots[7]!, slots[42]!].sort());
  assert.equal(arena.liveSlots(size), 100);
  arena.dispose();
});

test("nbytes is the sum of slab byteLengths, which is what the arena allocated from the heap", () => {
  const heap = WasmHeap.create(4);
  const tracker = trackHeap(heap);
  const arena = new SlabArena(heap, "test");
  for (let i = 0; i < 300; i++) arena.take(20);
  for (let i = 0; i < 50; i++) arena.take(8);
  assert.equal(arena.nbytes(), tracker.liveBytes());
  // geometric slabs: 16, 32, 64, 128, 256 slots of 20 bytes cover 300 slots; 16 + 32 + 64 slots of 8 cover 50
  assert.equal(arena.classBytes(20), (16 + 32 + 64 + 128 + 256) * 20);
  assert.equal(arena.classBytes(8), (16 + 32 + 64) * 8);
  assert.equal(arena.nbytes(), arena.classBytes(20) + arena.classBytes(8));
  arena.dispose();
  assert.equal(tracker.liveBytes(), 0);
});

test("slabs stop growing at the maximum slab size", () => {
  const heap = WasmHeap.create(4);
  const arena = new SlabArena(heap, "test", 1024);
  for (let i = 0; i < 200; i++) arena.take(32); // 16 + 32 slots, then slabs of 1024/32 = 32 slots
  assert.equal(arena.classBytes(32), (16 + 32 + 32 * 5) * 32);
  arena.dispose();
});

test("releaseEmptySlabs frees wholly free slabs and keeps live slots intact", () => {
  const heap = WasmHeap.create(4);
  const tracker = trackHeap(heap);
  const arena = new SlabArena(heap, "test");
  const slots = Array.from({ length: 16 + 32 + 64 }, () => arena.take(16));
  slots.forEach((ptr, i) => stamp(heap, ptr, 16, i));
  // free every slot of the second slab (slots 16..47) and half of the third
  const kept = slots.filter((_, i) => !(i >= 16 && i < 48) && !(i >= 48 && i % 2 === 0));
  slots.forEach((ptr, i) => {
    if (!kept.includes(ptr)) arena.release(16, ptr);
  });
  const before = arena.nbytes();
  const released = arena.releaseEmptySlabs();
  assert.equal(released, 32 * 16);
  assert.equal(arena.nbytes(), before - released);
  assert.equal(arena.nbytes(), tracker.liveBytes());
  slots.forEach((ptr, i) => {
    if (kept.includes(ptr)) assert.ok(hasStamp(heap, ptr, 16, i), `live slot ${i} damaged`);
  });
  // the free list was rebuilt from the kept slabs only: new slots never land in the freed slab
  const fresh = Array.from({ length: 32 }, () => arena.take(16));
  const allocatedNow = arena.nbytes();
  for (const ptr of fresh) assert.ok(!kept.includes(ptr));
  assert.equal(new Set([...fresh, ...kept]).size, fresh.length + kept.length);
  assert.equal(allocatedNow, tracker.liveBytes());
  arena.dispose();
});

test("a class with no live slot gives all its slabs back; size 0 costs nothing", () => {
  const heap = WasmHeap.create(4);
  const tracker = trackHeap(heap);
  const arena = new SlabArena(heap, "test");
  assert.equal(arena.take(0), 0);
  arena.release(0, 0);
  const a = arena.take(100);
  arena.release(100, a);
  assert.ok(arena.nbytes() > 0);
  arena.releaseEmptySlabs();
  assert.equal(arena.nbytes(), 0);
  assert.equal(tracker.liveBytes(), 0);
  assert.throws(() => arena.release(100, a), /never taken/);
});
