import type { BatchSegment } from "../model/llama.js";
import type { Engine } from "./Engine.js";
import type { Session } from "./Session.js";

/**
 * Feeding several sessions of one engine together: the decode tokens of concurrent requests (one token each) and
 * chunks of their prompts go through shared forward passes (LlamaModel.forwardBatch), so each pass reads the weights
 * once for all of them: a matrix product over the B tokens of the pass in place of B matrix-vector products.
 *
 * A feed is some of a session's next tokens; `endsCall` says they end the session's forward call (a decode token
 * always does; a prompt chunk does when it is the prompt's last), which alone gets the last token's logits and the
 * cache's endForward. Feeds are packed in order into passes of at most `maxBlock` tokens; a feed that does not fit
 * whole is split across consecutive passes (each piece still one segment of its session's cache in its pass).
 */
export interface SessionFeed {
  readonly session: Session;
  readonly tokens: Int32Array;
  readonly endsCall: boolean;
  /** whether the last token's logits are wanted (default: endsCall; a prompt chunk may end a call without them) */
  readonly logits?: boolean;
}

/**
 * Runs `feeds` (each session at most once) and hands each ending feed's logits (unless it asked for none) to `onLogits(index in feeds, logits)`
 * right after its pass (a view valid until the next pass). Returns the number of passes run. When a pass fails every
 * session fed here is reset (its cache may hold part of the failed pass) and the error is thrown.
 */
export function runFeeds(engine: Engine, feeds: readonly SessionFeed[], onLogits: (feed: number, logits: Float32Array) => void): number {
  const sessions = new Set<Session>();
  for (const f of feeds) {
    if (f.session.engine !== engine) throw new RangeError("every batched session must run on the same engine");
    if (sessions.has(f.session)) throw new RangeError("a session may be fed once per batch");
    if (f.tokens.length === 0) throw new RangeError("a batched feed needs at least one token");
    if (f.tokens.length > f.session.remaining) f.session.segmentFor(f.tokens, f.endsCall); // throws the context error
    sessions.add(f.session);
  }
  const model = engine.model;
  const vocab = engine.config.vocabSize;
  const maxBlock = model.maxBlock;
  let passes = 0;
  try {
    let feed = 0;
    let offset = 0; // tokens of feeds[feed] already placed in earlier passes
    while (feed < feeds.length) {
      const segments: BatchSegment[] = [];
      const owners: number[] = []; // feed index of each segment that wants logits, in order
      const fedBy: Session[] = []; // the session of each segment
      let room = maxBlock;
      while (feed < feeds.length && room > 0) {
        const f = feeds[feed]!;
        const take = Math.min(room, f.tokens.length - offset);
        const whole = offset + take === f.tokens.length;
        const segment = f.session.segmentFor(f.tokens.subarray(offset, offset + take), whole && f.endsCall, whole && (f.logits ?? f.endsCall));
        segments.push(segment);
        fedBy.push(f.session);
        if (segment.logits !== "none") owners.push(feed);
        room -= take;
        if (whole) {
          feed++;
          offset = 0;
        } else offset += take;
      }
      const logits = model.forwardBatch(segments);
      passes++;
      segments.forEach((segment, i) => fedBy[i]!.fedInPass(segment));
      owners.forEach((owner, row) => onLogits(owner, logits.subarray(row * vocab, (row + 1) * vocab)));
    }
  } catch (error) {
    for (const session of sessions) session.reset();
    throw error;
  }
  return passes;
}
