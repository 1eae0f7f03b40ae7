/**
 * The rule for numbers in README.md and docs/*.md (issue 30), pure so that the test and the benches
 * share it:
 *
 * - a performance or size table lives in a section written by a benchmark, between
 *   `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->` (`<name>` is the bench, or
 *   `<bench>-<part>` when one bench writes several sections; the older `contention-table:<pairs>`
 *   markers of bench/contention.ts are read the same way), and ends with the footer line that
 *   bench/doc-table.ts writes: which command, commit, date, CPU, cores, load average at the start,
 *   runs and statistic;
 * - outside those sections no benchmark number may appear: a ratio (`1.91×`), or a time, size, rate
 *   or percentage (`9.10 s`, `34.5 MB`, `12 tok/s`, `92 %`) in a sentence or table row that
 *   measures something (took, measured, median, faster, RSS, throughput…: MEASURING below).
 *
 * Not caught, on purpose: code (fenced blocks and `inline`), dimensions (`1280×720`, `4 × 64`),
 * quantities of an input or an option in prose that measures nothing ("a 60 s clip", "2 cores",
 * "default 30 s", "at most 256 KiB"), and input quantities even in a measuring sentence when a noun
 * of input follows them ("60 s clip", "2 s windows", "30 s of sound").
 */

/** Section markers: `bench:<name>` or the legacy `contention-table:<pairs>` / `contention-serve`. */
const MARKER = /^<!-- ((?:bench:)?[\w.,:-]+):(start|end) -->\s*$/;

/**
 * The footer bench/doc-table.ts writes (and bench/contention.ts wrote before it):
 * Measured by `npm run bench -- NAME …` at commit SHA, YYYY-MM-DD HH:MM UTC, on CPU, N cores;
 * load average at the start A / B / C …; … median of N … (or "one run").
 */
export const FOOTER = /^Measured by `npm run bench -- ([\w-]+)[^`]*` at commit ([0-9a-f]{7,40})(?: \([^)]*\))?, (\d{4}-\d\d-\d\d \d\d:\d\d) UTC, on ([^,;]+(?:, [^,;]+)*?), (\d+) cores; load average at the start (\d+\.\d+) \/ (\d+\.\d+) \/ (\d+\.\d+)/;
const STATISTIC = /\b(median|mean|minimum|maximum) of (\d+)\b|\bone run\b/;

export interface Footer { bench: string; commit: string; date: string; cpu: string; cores: number; load: number[]; runs: number | null; statistic: string }
export interface Section { name: string; bench: string; startLine: number; endLine: number; footer: Footer | null; problems: string[] }
export interface Stray { line: number; text: string; figure: string }

export function parseFooter(line: string): Footer | null {
  const m = FOOTER.exec(line.trim());
  if (!m) return null;
  const s = STATISTIC.exec(line);
  if (!s) return null;
  return { bench: m[1]!, commit: m[2]!, date: m[3]!, cpu: m[4]!, cores: Number(m[5]), load: [m[6], m[7], m[8]].map(Number),
    runs: s[2] ? Number(s[2]) : s[0] === 'one run' ? 1 : null, statistic: s[1] ?? 'one run' };
}

/** The bench a section name belongs to: `bench:tokens-same` → tokens…; `contention-table:tiny` → contention…. */
function sectionBench(name: string): string {
  return name.replace(/^bench:/, '').replace(/-table:.*$/, '').replace(/:.*$/, '');
}

// A sentence or table row that measures something.
const MEASURING = /\b(took|measured|measures|median|medians|mean of|on average|faster|slower|speed-?up|throughput|p50|p9\d|p99|RSS|peak|wall|latency|real-time factor|in all|stripped|packed|unpacked|accuracy|score[sd]?|mIoU|R@|growth|time to|jobs per minute|vs\b|against|compared|ratio|lower|higher|spent|scored?)\b/i;
// a table whose header names a measured quantity: its rows are results
const MEASURING_HEADER = /\b(size|time|total|first token|memory|seconds|process)\b/i;
// a number with a unit; the unit group decides what kind of figure it is
const FIGURE = /(?<![\w.])(~|≈|about )?(\d[\d,]*(?:\.\d+)?)(?:[–-]\d[\d,]*(?:\.\d+)?)?\s?(ms|µs|us|s|sec|secs|seconds?|min|minutes?|h|hours?|KB|kB|KiB|MB|MiB|GB|GiB|tok\/s|tokens\/s|jobs\/min|%)(?![\w/])/g;
// what makes a quantity an input's or option's size rather than a result
const INPUT_AFTER = /^[- ]?(clip|clips|video|videos|recording|stream|window|windows|segment|segments|file|files|chunk|chunks|cue|sound|silence|audio|tone|of (sound|silence|audio|stream|video|a clip|the clip|padding)|long|apart|timeout|interval|lock|budget|limit|cap)\b/i;
const INPUT_BEFORE = /(\b(every|each|per|default|defaults? to|at most|at least|up to|within|over|under|than|a|an|at|cached|the first|the last|last|first)|[<>≤≥=→])\s*$/i;
// a ratio written right after its number: 1.91×, 160×; not 8×8, 4 × 64, 2×2
const RATIO = /(?<![\w.×])(\d+(?:\.\d+)?)×(?![\d\w(])/g;

/** Drops code: inline `…` spans (fenced blocks are skipped line by line by the caller). */
function stripInlineCode(line: string): string {
  return line.replace(/`[^`]*`/g, ' ').replace(/<!--.*?-->/g, ' ').replace(/\]\([^)]*\)/g, ']');
}

/** The benchmark numbers of one line of prose (its table's header row joined in as context). */
export function benchmarkFigures(line: string, context = ''): string[] {
  const text = stripInlineCode(line);
  const found: string[] = [];
  for (const m of text.matchAll(RATIO)) found.push(m[0]);
  // sentence by sentence: a measuring word makes its quantities results
  const sentences = line.trim().startsWith('|') ? text.split('|') : text.split(/(?<=[.;:!?])\s+(?=[A-Z(*`])/);
  for (const sentence of sentences) {
    if (!MEASURING.test(sentence) && !MEASURING.test(context)) continue;
    for (const m of sentence.matchAll(FIGURE)) {
      const after = sentence.slice(m.index! + m[0].length);
      const before = sentence.slice(0, m.index!);
      if (INPUT_AFTER.test(after)) continue;
      if (!m[1] && INPUT_BEFORE.test(before)) continue;
      found.push(m[0].trim());
    }
  }
  return found;
}

// a header cell that gives its column's unit or says it holds results: "total (ms)", "peak RSS (MiB)", "ratio"
const UNIT_HEADER = /\((ms|s|MiB|MB|GiB|GB|KiB|%|tok\/s|×)\)|\bratio\b|\bwall s\b|jobs\/min|jobs per minute|real-time factor|\bRSS\b|tok\/s|tokens\/s/i;
const cells = (row: string) => row.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());

/** Numbers in the columns of a table whose header gives a unit or names a result. */
export function unitColumnFigures(header: string, row: string): string[] {
  if (/^\s*\|[\s:|-]+\|\s*$/.test(row)) return []; // the |---| row
  const h = cells(header), r = cells(row);
  const found: string[] = [];
  r.forEach((c, k) => {
    if (k < h.length && UNIT_HEADER.test(h[k]!) && /^[~≈]?-?\d[\d,]*(\.\d+)?\b/.test(stripInlineCode(c).trim()) && !RATIO.test(c)) found.push(`${c} (${h[k]})`);
    RATIO.lastIndex = 0;
  });
  return found;
}

/** Reads a markdown file: its bench sections and the benchmark numbers outside them. */
export function scanDoc(text: string): { sections: Section[]; strays: Stray[]; problems: string[] } {
  const lines = text.split('\n');
  const sections: Section[] = [];
  const strays: Stray[] = [];
  const problems: string[] = [];
  let open: Section | null = null;
  let fenced = false;
  let header = '';
  let para: string[] = [];
  let paraStart = 0;
  const check = (text: string, line: number, context: string) => {
    for (const figure of benchmarkFigures(text, context)) strays.push({ line, text: text.trim(), figure });
  };
  const flush = () => {
    if (para.length) check(para.join(' '), paraStart, '');
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const mk = MARKER.exec(line.trim());
    if (mk) {
      const [, name, edge] = mk;
      flush();
      if (edge === 'start') {
        if (open) problems.push(`line ${i + 1}: section ${name} starts inside ${open.name}`);
        open = { name: name!, bench: sectionBench(name!), startLine: i + 1, endLine: -1, footer: null, problems: [] };
      } else if (!open || open.name !== name) {
        problems.push(`line ${i + 1}: end of ${name} without its start`);
      } else {
        open.endLine = i + 1;
        const body = lines.slice(open.startLine, i);
        const footers = body.map((l) => parseFooter(l)).filter((f): f is Footer => f !== null);
        open.footer = footers[footers.length - 1] ?? null;
        if (!open.footer) open.problems.push('no footer (command, commit, date, CPU, cores, load at the start, runs and statistic)');
        else if (open.footer.bench !== open.bench && !open.bench.startsWith(`${open.footer.bench}-`)) {
          open.problems.push(`footer names bench "${open.footer.bench}", the section is ${open.name}`);
        }
        sections.push(open);
        open = null;
      }
      continue;
    }
    if (open) continue;
    if (/^\s*(```|~~~)/.test(line)) { flush(); fenced = !fenced; continue; }
    if (fenced) continue;
    if (/^\s*\|/.test(line)) {
      flush();
      if (!/^\s*\|/.test(lines[i - 1] ?? '')) { header = line; continue; } // a table's header row: context for its rows
      check(line, i + 1, MEASURING_HEADER.test(header) ? `${header} measured` : header);
      for (const figure of unitColumnFigures(header, line)) strays.push({ line: i + 1, text: line.trim(), figure });
      continue;
    }
    header = '';
    // prose: a paragraph or list item is read as one text, so a sentence over several lines keeps its words
    if (!line.trim() || /^\s*([-*+]|\d+\.)\s/.test(line) || /^#/.test(line)) flush();
    if (line.trim()) { if (!para.length) paraStart = i + 1; para.push(line); }
  }
  flush();
  if (open) problems.push(`section ${open.name} (line ${open.startLine}) has no end marker`);
  return { sections, strays, problems };
}
