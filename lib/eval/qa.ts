/**
 * Multiple-choice accuracy with the benchmarks' own answer matching:
 * - `videomme`: Video-MME's `extract_characters_regex` (strip answer prefixes, take the first
 *   option letter anywhere; more than 10 words with no letter → no answer);
 * - `mvbench`: MVBench's `check_ans` (the first word of the answer against "(x)").
 */
import { VidlmError } from '../errors.js';

export type QaMatch = 'videomme' | 'mvbench';

export interface QaTruth {
  id: string;
  /** The correct option letter, upper case. */
  letter: string;
  /** How many options the question has (letters A…); Video-MME: 4. */
  options: number;
  category?: string;
}

const VIDEOMME_PREFIXES = [
  'The best answer is', 'The correct answer is', 'The answer is', 'The answer',
  'The best option is', 'The correct option is', 'Best answer:', 'Best option:',
];

/** Video-MME's letter extraction; '' when no answer can be read. `options` letters: A… (4 → ABCD). */
export function extractChoice(answer: string, options = 4): string {
  let s = answer.trim();
  for (const p of VIDEOMME_PREFIXES) s = s.split(p).join('');
  const letters = new RegExp(`[A-${String.fromCharCode(64 + options)}]`);
  const words = s.split(/\s+/).filter(Boolean);
  if (words.length > 10 && !letters.test(s)) return '';
  return letters.exec(s)?.[0] ?? '';
}

/**
 * MVBench's `check_ans(pred, gt)` with gt "(x) …": pred's first word (lower-cased, dots removed)
 * inside "(x)", or "(x)" inside pred's first word. An empty answer counts as wrong (Python's
 * `'' in '(x)'` would count it right).
 */
export function mvbenchCorrect(answer: string, letter: string): boolean {
  const predOption = answer.trim().toLowerCase().split(' ')[0]!;
  const gtOption = `(${letter.toLowerCase()})`;
  if (predOption.replace(/\./g, '') === '') return false;
  return gtOption.includes(predOption.replace(/\./g, '')) || predOption.includes(gtOption);
}

/** The letter of a ground-truth answer written "B", "(B)", "B." or "(B) the text". */
export function truthLetter(answer: string): string {
  const m = /^\s*\(?([A-Za-z])\)?(?=$|[\s.:)])/.exec(answer);
  if (!m) throw new VidlmError('ERR_INVALID_ARG', `ground-truth answer ${JSON.stringify(answer)} does not start with an option letter`);
  return m[1]!.toUpperCase();
}

export interface QaItemResult {
  id: string;
  gt: string;
  /** videomme: the extracted letter ('' = none); mvbench: the answer's first word. null: no prediction. */
  pred: string | null;
  correct: boolean;
  category?: string;
}

export interface QaScore { questions: number; correct: number; accuracy: number }

export interface QaReport extends QaScore {
  match: QaMatch;
  categories: Record<string, QaScore>;
  missing: string[];
  extra: string[];
  items: QaItemResult[];
}

export function evaluateQa(truth: readonly QaTruth[], answers: ReadonlyMap<string, string>, match: QaMatch = 'videomme'): QaReport {
  if (match !== 'videomme' && match !== 'mvbench') throw new VidlmError('ERR_INVALID_ARG', `match must be "videomme" or "mvbench", got ${JSON.stringify(match)}`);
  const items: QaItemResult[] = truth.map((g) => {
    const answer = answers.get(g.id);
    let pred: string | null = null, correct = false;
    if (answer !== undefined) {
      if (match === 'videomme') { pred = extractChoice(answer, g.options); correct = pred === g.letter; }
      else { pred = answer.trim().toLowerCase().split(' ')[0]!; correct = mvbenchCorrect(answer, g.letter); }
    }
    const item: QaItemResult = { id: g.id, gt: g.letter, pred, correct };
    if (g.category !== undefined) item.category = g.category;
    return item;
  });
  const score = (list: QaItemResult[]): QaScore => {
    const correct = list.filter((it) => it.correct).length;
    return { questions: list.length, correct, accuracy: list.length ? correct / list.length : 0 };
  };
  const categories: Record<string, QaScore> = {};
  for (const name of new Set(items.flatMap((it) => (it.category === undefined ? [] : [it.category])))) {
    categories[name] = score(items.filter((it) => it.category === name));
  }
  const ids = new Set(truth.map((g) => g.id));
  return {
    match,
    ...score(items),
    categories,
    missing: items.filter((it) => it.pred === null).map((it) => it.id),
    extra: [...answers.keys()].filter((id) => !ids.has(id)),
    items,
  };
}
