/**
 * Deterministic test data: mulberry32, a small 32-bit generator, so every test run sees the same values and a
 * failure can be reproduced from its seed.
 */

/** Returns a generator of uniform numbers in [0, 1) for `seed`. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Float32Array of `count` values uniform in [low, high). */
export function randomFloats(random: () => number, count: number, low: number, high: number): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = low + (high - low) * random();
  return values;
}
