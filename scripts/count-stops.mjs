#!/usr/bin/env node
// Counts the stops a request's video makes on its way to the model, mechanically, with the
// TypeScript compiler's checker (issue #22: "following ask()'s `video` ... at most 30 stops").
//
// Method. Start at an entry function with one tracked parameter (ask()'s `video`, the server's
// parsed request). In a function body a name is tracked when it is a tracked parameter or is
// bound (const/let, destructuring, assignment, for-of) from an expression that mentions a
// tracked name — so values derived from the input (the opened source, the plan, the frames, the
// rendered prompt) are followed too. Every call or `new` in the body (closures included) that
// passes a tracked value as an argument, and that the checker resolves to a function with a body
// in lib/, is a call the value makes; the callee is analysed the same way, with the parameters
// that received tracked arguments tracked. Calls through an interface or a callback have no
// body to resolve and are not followed. The walk ends at the context's prefill: a call to
// Context.prefill / prefillMedia / turn counts and is not entered.
//
// The route keeps the calls inside which the value reaches the prefill and the calls whose result
// feeds one of those (or the caller's use of the function's result): open, plan, budget, sample,
// encode, assemble, render and what they call with the value; a check that only throws is off it,
// and so is an error built to be thrown (`throw videoError(e)` in a .catch, `throw new HttpError`
// in a check the caller hands the pipeline): a thrown value leaves the route.
// The walk reads the route depth first, as a reader follows the value with the imports open:
//
//   stop   a call on the route into a function of another module (file) than the caller's, read
//          for the first time; a module entered again through another function counts again. A
//          function already read (openInput from the video and again from a subtitle file) is
//          not read again: printed with ○, not counted. Calls inside one module are not stops (·).
//   climb  a stop into a higher layer than the caller's (scripts/layers.mjs).
//
// Usage: node scripts/count-stops.mjs [--root DIR] [--tree]   (DIR: a checkout of vidlm, default .)
import path from 'node:path';
import ts from 'typescript';
import { LAYERS, layerOf } from './layers.mjs';

const args = process.argv.slice(2);
const root = path.resolve(args.includes('--root') ? args[args.indexOf('--root') + 1] : '.');
const showTree = args.includes('--tree');
const lib = path.join(root, 'lib');

const ENTRIES = [
  { name: "ask()'s video", file: 'api/query.ts', fn: 'ask', param: 0 },
  { name: "the server's request", file: 'server/completion.ts', fn: 'runCompletion', param: 1 },
];
const END = new Set(['prefill', 'prefillMedia', 'turn']);

const cfg = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } });
const program = ts.createProgram(cfg.fileNames, cfg.options);
const checker = program.getTypeChecker();
const rel = (sf) => path.relative(lib, sf.fileName).split(path.sep).join('/');
const inLib = (sf) => sf.fileName.startsWith(lib + path.sep) && !sf.isDeclarationFile;

function findFunction(file, name) {
  const sf = program.getSourceFile(path.join(lib, file));
  if (!sf) throw new Error(`no ${file} under ${lib}`);
  let found;
  const visit = (n) => { if (!found && ts.isFunctionDeclaration(n) && n.name?.text === name) found = n; else ts.forEachChild(n, visit); };
  visit(sf);
  if (!found) throw new Error(`no function ${name} in ${file}`);
  return found;
}

/** The declaration with a body that a call resolves to, or null. */
function target(call) {
  let sym = checker.getSymbolAtLocation(ts.isNewExpression(call) ? call.expression : (ts.isPropertyAccessExpression(call.expression) ? call.expression.name : call.expression));
  if (!sym) return null;
  if (sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  for (const d of sym.declarations ?? []) {
    if (!inLib(d.getSourceFile())) continue;
    if (ts.isClassDeclaration(d)) { const c = d.members.find((m) => ts.isConstructorDeclaration(m) && m.body); if (c) return c; continue; }
    if ((ts.isFunctionDeclaration(d) || ts.isMethodDeclaration(d) || ts.isConstructorDeclaration(d)) && d.body) return d;
    if (ts.isVariableDeclaration(d) && d.initializer && (ts.isArrowFunction(d.initializer) || ts.isFunctionExpression(d.initializer))) return d.initializer;
  }
  return null;
}

const bindingNames = (name, out = []) => {
  if (ts.isIdentifier(name)) out.push(name);
  else for (const el of name.elements) if (!ts.isOmittedExpression(el)) bindingNames(el.name, out);
  return out;
};
// the name of a shorthand in a destructuring assignment (`({ video } = ...)`) binds the variable, not the literal's property
const symOf = (id) => (ts.isShorthandPropertyAssignment(id.parent) && id.parent.name === id ? checker.getShorthandAssignmentValueSymbol(id.parent) : checker.getSymbolAtLocation(id));

function mentions(expr, tracked) {
  let hit = false;
  const visit = (n) => {
    if (hit) return;
    if (ts.isIdentifier(n)) { const s = symOf(n); if (s && tracked.has(s)) hit = true; return; }
    if (ts.isShorthandPropertyAssignment(n)) { const s = checker.getShorthandAssignmentValueSymbol(n); if (s && tracked.has(s)) hit = true; return; }
    ts.forEachChild(n, visit);
  };
  visit(expr);
  return hit;
}

/** The names of `fn` that hold the input, from its tracked parameters to a fixed point. */
function trackedNames(fn, params) {
  const tracked = new Set();
  for (const i of params) { const p = fn.parameters[i]; if (p) for (const id of bindingNames(p.name)) { const s = symOf(id); if (s) tracked.add(s); } }
  const binds = bindings(fn);
  for (let changed = true; changed;) {
    changed = false;
    for (const [expr, ids] of binds) {
      if (!mentions(expr, tracked)) continue;
      for (const id of ids) { const s = symOf(id); if (s && !tracked.has(s)) { tracked.add(s); changed = true; } }
    }
  }
  return tracked;
}

const fnName = (fn) => {
  if (ts.isConstructorDeclaration(fn)) return `new ${fn.parent.name?.text ?? '?'}`;
  if (ts.isMethodDeclaration(fn)) return `${fn.parent.name?.text ?? '?'}.${fn.name.getText()}`;
  if (fn.name) return fn.name.getText();
  if (ts.isVariableDeclaration(fn.parent)) return fn.parent.name.getText();
  return '(anonymous)';
};
const isEnd = (fn) => ts.isMethodDeclaration(fn) && fn.parent.name?.text === 'Context' && END.has(fn.name.getText());

/** Calls in `fn` that pass a tracked value to a function with a body in lib/ (not one on `stack`). */
function candidates(fn, tracked, stack) {
  const out = [];
  const visit = (n) => {
    if (ts.isCallExpression(n) || ts.isNewExpression(n)) {
      const argsIn = (n.arguments ?? []).map((a) => mentions(a, tracked));
      const callee = argsIn.some(Boolean) ? target(n) : null;
      if (callee && !stack.includes(callee)) {
        const params = new Set();
        const last = callee.parameters.length - 1;
        n.arguments.forEach((a, i) => {
          if (!argsIn[i] || last < 0) return;
          if (ts.isSpreadElement(a)) for (let j = Math.min(i, last); j <= last; j++) params.add(j);
          else params.add(Math.min(i, last));
        });
        out.push({ call: n, callee, params: [...params] });
      }
    }
    ts.forEachChild(n, visit);
  };
  if (fn.body) visit(fn.body);
  return out;
}

const within = (node, outer) => node.pos >= outer.pos && node.end <= outer.end && node.getSourceFile() === outer.getSourceFile();
/** Is `call` the operand of a `throw` (or inside one) below `outer`? A thrown value leaves the route: it never reaches the prefill. */
const thrownIn = (call, outer) => { for (let n = call.parent; n && n !== outer; n = n.parent) if (ts.isThrowStatement(n)) return true; return false; };
const reachMemo = new Map();
/** Does the value reach the prefill inside `fn`? */
function reaches(fn, params, stack) {
  if (isEnd(fn)) return true;
  const key = fn;
  if (reachMemo.has(key)) return reachMemo.get(key);
  reachMemo.set(key, false);
  const tracked = trackedNames(fn, params);
  const r = candidates(fn, tracked, stack).some((c) => reaches(c.callee, c.params, [...stack, c.callee]));
  reachMemo.set(key, r);
  return r;
}

/** Methods that put their arguments into the receiver (a list, a map, a set). */
const MUTATORS = new Set(['push', 'unshift', 'splice', 'set', 'add']);

/** Every expression that binds names in `fn`: [expression, names] (declarations, assignments — `n += k` too — for-of, x.push(y)). */
function bindings(fn) {
  const binds = [];
  const root = (e) => { while (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e) || ts.isNonNullExpression(e)) e = e.expression; return ts.isIdentifier(e) ? e : null; };
  const visit = (n) => {
    if (ts.isVariableDeclaration(n) && n.initializer) binds.push([n.initializer, bindingNames(n.name)]);
    else if (ts.isBinaryExpression(n) && (n.operatorToken.kind === ts.SyntaxKind.EqualsToken
      || (n.operatorToken.kind >= ts.SyntaxKind.FirstCompoundAssignment && n.operatorToken.kind <= ts.SyntaxKind.LastCompoundAssignment))) {
      const ids = []; const v = (m) => { if (ts.isIdentifier(m)) ids.push(m); else ts.forEachChild(m, v); };
      const r = root(n.left); if (r) ids.push(r); else v(n.left);
      binds.push([n.right, ids]);
    } else if ((ts.isForOfStatement(n) || ts.isForInStatement(n)) && ts.isVariableDeclarationList(n.initializer)) {
      for (const d of n.initializer.declarations) binds.push([n.expression, bindingNames(d.name)]);
    } else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && MUTATORS.has(n.expression.name.text) && n.arguments.length > 0) {
      const r = root(n.expression.expression); if (r) for (const a of n.arguments) binds.push([a, [r]]);
    }
    ts.forEachChild(n, visit);
  };
  if (fn.body) visit(fn.body);
  return binds;
}

/**
 * The calls of `fn` on the value's route: those that reach the prefill, and those whose result
 * feeds one of them (or `fn`'s return value, when the caller uses it).
 */
function route(fn, params, returnNeeded, stack) {
  if (isEnd(fn)) return [];
  const tracked = trackedNames(fn, params);
  const cands = candidates(fn, tracked, stack);
  const needed = [];
  for (const c of cands) if (reaches(c.callee, c.params, [...stack, c.callee])) needed.push(...c.call.arguments);
  if (returnNeeded) { const v = (n) => { if (ts.isReturnStatement(n) && n.expression) needed.push(n.expression); else if (ts.isArrowFunction(n) && !ts.isBlock(n.body)) needed.push(n.body); ts.forEachChild(n, v); }; if (fn.body) v(fn.body); if (fn.body && !ts.isBlock(fn.body)) needed.push(fn.body); }
  const binds = bindings(fn);
  const neededSyms = new Set();
  for (let changed = true; changed;) {
    changed = false;
    for (const e of needed) {
      const v = (n) => {
        const s = ts.isShorthandPropertyAssignment(n) ? checker.getShorthandAssignmentValueSymbol(n) : ts.isIdentifier(n) ? symOf(n) : undefined;
        if (s && tracked.has(s) && !neededSyms.has(s)) { neededSyms.add(s); changed = true; }
        ts.forEachChild(n, v);
      };
      v(e);
    }
    for (const [expr, ids] of binds) if (!needed.includes(expr) && ids.some((id) => neededSyms.has(symOf(id)))) { needed.push(expr); changed = true; }
  }
  const out = [];
  for (const c of cands) {
    const feeds = needed.some((e) => within(c.call, e) && c.call !== e.parent && !thrownIn(c.call, e));
    const reach = reaches(c.callee, c.params, [...stack, c.callee]);
    if (!feeds && !reach) continue;
    out.push({ ...c, returnNeeded: needed.some((e) => within(c.call, e)) });
  }
  return out;
}

function walk(entry) {
  const r = { stops: 0, climbs: 0, calls: 0, repeats: 0, files: new Set(), lines: [], read: new Set() };
  const go = (fn, params, returnNeeded, depth, stack) => {
    const file = rel(fn.getSourceFile());
    r.files.add(file);
    for (const c of route(fn, params, returnNeeded, stack)) {
      const to = rel(c.callee.getSourceFile());
      const pad = '  '.repeat(depth);
      r.calls++;
      if (r.read.has(c.callee)) { r.repeats++; r.lines.push(`${pad}○ ${fnName(c.callee)}  ${to}  (read before)`); continue; }
      r.read.add(c.callee);
      const stop = to !== file;
      const climb = stop && layerOf(to) > layerOf(file);
      if (stop) r.stops++;
      if (climb) r.climbs++;
      r.lines.push(`${pad}${stop ? '●' : '·'} ${fnName(c.callee)}  ${to}${climb ? `  ↑ climb (${LAYERS[layerOf(file)][0]} → ${LAYERS[layerOf(to)][0]})` : ''}`);
      go(c.callee, c.params, c.returnNeeded, depth + 1, [...stack, c.callee]);
    }
  };
  const fn = findFunction(entry.file, entry.fn);
  r.lines.push(`${entry.fn}  ${entry.file}`);
  go(fn, [entry.param], false, 1, [fn]);
  return r;
}

console.log(`count-stops on ${root}`);
for (const e of ENTRIES) {
  const r = walk(e);
  console.log(`${e.name} (${e.file} ${e.fn}): ${r.stops} stops in ${r.files.size} files, ${r.climbs} climbs back up (${r.read.size} functions read, ${r.repeats} calls to one read before)`);
  if (showTree) console.log(r.lines.join('\n') + '\n');
}
