/**
 * Multiple-choice scoring from per-token log-likelihoods (natural log) of each choice's continuation:
 *   acc       argmax of the summed log-likelihood (lm-eval)
 *   acc_norm  argmax of the sum divided by the choice's length in characters (lm-eval: the choice text, without the
 *             leading delimiter, counted in code points)
 *   acc_mean  argmax of the mean per-token log-likelihood (the QAQ paper's scoring)
 * Ties go to the first choice (numpy's argmax, as lm-eval).
 */
export type ChoiceRule = "acc" | "acc_norm" | "acc_mean";
export const CHOICE_RULES: readonly ChoiceRule[] = ["acc", "acc_norm", "acc_mean"];

export interface ScoredChoice {
  /** log p of each continuation token, in order */
  readonly logliks: ArrayLike<number>;
  /** characters of the choice text (the acc_norm divisor) */
  readonly chars: number;
}

export function sumOf(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum;
}

/** The score a rule ranks choices by. */
export function choiceScore(choice: ScoredChoice, rule: ChoiceRule): number {
  const sum = sumOf(choice.logliks);
  switch (rule) {
    case "acc":
      return sum;
    case "acc_norm":
      return sum / choice.chars;
    case "acc_mean":
      return sum / choice.logliks.length;
    default: {
      const unreachable: never = rule;
      throw new Error(`unknown rule ${String(unreachable)}`);
    }
  }
}

/** The index of the chosen answer under `rule`. */
export function predictChoice(choices: readonly ScoredChoice[], rule: ChoiceRule): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let i = 0; i < choices.length; i++) {
    const score = choiceScore(choices[i]!, rule);
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}

/** Characters as Python counts them (code points), for acc_norm. */
export function characterLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
