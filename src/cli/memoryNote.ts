/** What the two compression figures mean, in one sentence each: for --help texts (the README says the same). */
export const MEMORY_NOTE = [
  "memory figures:",
  "  measured ratio (ratioVsFp16): fp16 bytes for the same tokens divided by the bytes the cache really allocates for",
  "    them (codes, scales, zeros, widths, outliers and their positions, policy state, full-precision rows); spare",
  "    capacity and a full-precision backing copy (memory or disk) are reported apart, in no ratio.",
  "  paper's bits-only ratio (paperRatio): 16 divided by the mean code width with outliers at 16 bits and nothing else",
  "    counted (no scales, zeros, widths or positions), as the QAQ paper reports it.",
].join("\n");
