#!/usr/bin/env node
// Runs the tap suite (arguments pass through) and ends with the plain summary line
// "N passed, N failed, N skipped" that CI reads; the exit code is tap's.
//
// Where stdout is not a terminal (CI, a pipe), tap's terse reporter prints nothing until the end,
// so a run that dies leaves no trace of where it was. Every few minutes this prints the test
// files then running and the memory they hold, and if tap ends without its summary (a signal, the
// OOM killer) it says how, with the files that were running.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tapBin = require.resolve('tap/package.json').replace(/package\.json$/, 'dist/esm/run.mjs');
const started = Date.now();
const child = spawn(process.execPath, [tapBin, '--reporter=terse', ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'] });
let tail = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  tail = (tail + d.toString()).slice(-4000);
});

const seconds = () => Math.round((Date.now() - started) / 1000);
const read = (f) => { try { return readFileSync(f, 'utf8'); } catch { return ''; } };

/** The processes under tap (pid → { ppid, rssKiB, args }), from /proc; empty where there is none. */
function tapTree() {
  const all = new Map();
  let pids = [];
  try { pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p)); } catch { return all; }
  for (const pid of pids) {
    const stat = read(`/proc/${pid}/stat`);
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(read(`/proc/${pid}/status`))?.[1] ?? 0);
    all.set(Number(pid), { ppid, rssKiB: rss, args: read(`/proc/${pid}/cmdline`).split('\0').join(' ') });
  }
  const tree = new Map();
  const under = (pid) => { for (let p = pid; p > 1; p = all.get(p)?.ppid ?? 0) if (p === child.pid) return true; return false; };
  for (const [pid, info] of all) if (under(pid)) tree.set(pid, info);
  return tree;
}

let lastSeen = 'none';
let peak = { kib: 0, args: '' };
/** Samples the tree: the files running now, and the largest process seen so far. */
function sample() {
  const tree = tapTree();
  const files = [...new Set([...tree.values()].flatMap((p) => p.args.match(/test\/\S+\.test\.ts/g) ?? []))];
  if (files.length > 0) lastSeen = files.join(', ');
  for (const p of tree.values()) if (p.rssKiB > peak.kib) peak = { kib: p.rssKiB, args: p.args.match(/test\/\S+\.test\.ts/)?.[0] ?? p.args.slice(0, 160) };
  return { tree, files };
}
const gb = (kib) => (kib / 1048576).toFixed(1);
function progress() {
  const { tree, files } = sample();
  const rss = [...tree.values()].reduce((s, p) => s + p.rssKiB, 0);
  const avail = Number(/MemAvailable:\s+(\d+)/.exec(read('/proc/meminfo'))?.[1] ?? 0);
  return `running ${files.join(', ') || 'none'}; the suite's processes hold ${gb(rss)} GB, ${gb(avail)} GB available; ` +
    `the largest process so far ${gb(peak.kib)} GB (${peak.args})`;
}

if (!process.stdout.isTTY) {
  const every = Number(process.env.VIDLM_TEST_PROGRESS_S ?? 300) * 1000;
  setInterval(sample, Math.min(every, 10_000)).unref();
  setInterval(() => console.log(`[tests] ${seconds()} s: ${progress()}`), every).unref();
}
// Ended from outside (CI's timeout, ^C): say where the suite was, and end tap with the same signal.
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => {
    console.log(`\n[tests] ${sig} after ${seconds()} s: ${progress()}`);
    child.kill(sig);
  });
}

/** Without tap's summary: the failed tests from the results tap saved per file (.tap/test-results); returns the files with one. */
function listFailures() {
  const root = '.tap/test-results';
  let files = [];
  try { files = readdirSync(root, { recursive: true }).filter((f) => String(f).endsWith('.tap')); } catch { return 0; }
  let failed = 0;
  for (const f of files) {
    try { if (statSync(`${root}/${f}`).mtimeMs < started) continue; } catch { continue; } // an earlier run's
    const lines = read(`${root}/${f}`).split('\n');
    const bad = lines.filter((l) => /^\s*not ok /.test(l) && !/# (SKIP|TODO)/.test(l));
    if (bad.length === 0) continue;
    failed++;
    console.log(`[tests] failed in ${String(f).replace(/\.tap$/, '')}:`);
    for (const l of bad.slice(0, 6)) console.log(`  ${l.trim().slice(0, 300)}`);
  }
  return failed;
}

child.on('close', (code, signal) => {
  const m = /total:\s*(\d+)(?:,\s*pass:\s*(\d+))?(?:,\s*fail:\s*(\d+))?(?:,\s*skip:\s*(\d+))?/.exec(tail);
  let failedFiles = 0;
  if (!m) {
    console.log(`\n[tests] tap ended ${signal ? `by ${signal}` : `with exit code ${code}`} after ${seconds()} s without its summary; the test files seen running last: ${lastSeen}`);
    failedFiles = listFailures();
  }
  const pass = Number(m?.[2] ?? 0);
  const fail = Number(m?.[3] ?? 0) || (code !== 0 && m && !m[3] ? 1 : 0) || (m ? 0 : Math.max(1, failedFiles));
  const skip = Number(m?.[4] ?? 0);
  console.log(`\n${pass} passed, ${fail} failed, ${skip} skipped`);
  process.exit(code ?? 1);
});
