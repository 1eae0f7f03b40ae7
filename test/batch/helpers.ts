/**
 * Helpers of the batch tests: a real redis-server (Debian's package, installed by
 * scripts/setup.sh) on a free loopback port with its data in a temp dir and no persistence,
 * the built CLI (dist/cli.js) as child processes whose JSON Lines events a test can wait for,
 * and jobs files over the generated test media.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const root = resolve(import.meta.dirname, '..', '..');
export const cliPath = join(root, 'dist', 'cli.js');

import { freeTcpPort as freePort } from '../fixtures/ports.js';

export { freePort };

/** Sends one inline command and resolves with the first reply line (null when nothing listens). */
function redisCommand(port: number, cmd: string): Promise<string | null> {
  return new Promise((res) => {
    const sock = tcpConnect(port, '127.0.0.1');
    let data = '';
    sock.on('connect', () => sock.write(`${cmd}\r\n`));
    sock.on('data', (d) => { data += d; if (data.includes('\r\n')) { sock.destroy(); res(data.split('\r\n')[0]!); } });
    sock.on('error', () => res(null));
    sock.on('close', () => res(data || null));
  });
}

export class RedisServer {
  proc?: ChildProcess;
  private constructor(readonly port: number, readonly dir: string) {}

  get url(): string { return `redis://127.0.0.1:${this.port}`; }

  static async start(): Promise<RedisServer> {
    if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('redis-server is missing: scripts/setup.sh installs it (Debian package redis-server)');
    const s = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'vidlm-redis-')));
    await s.start();
    return s;
  }

  /** Starts (again) on the same port and dir; a dump.rdb left by stop({ save: true }) is loaded. */
  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--logfile', join(this.dir, 'redis.log')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if ((await redisCommand(this.port, 'PING')) === '+PONG') return;
      await sleep(50);
    }
    throw new Error(`redis-server did not start on ${this.port}: ${readFileSync(join(this.dir, 'redis.log'), 'utf8').slice(-500)}`);
  }

  /** Stops it; with `save` its data is written to the temp dir first (for a restart that keeps the jobs). */
  async stop(o: { save?: boolean } = {}): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((res) => p.once('exit', res));
    await redisCommand(this.port, o.save ? 'SHUTDOWN SAVE' : 'SHUTDOWN NOSAVE');
    await Promise.race([exited, sleep(5000).then(() => p.kill('SIGKILL'))]);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

export type Event = Record<string, unknown> & { event?: string };

/** A CLI child process; `events` are its stdout JSON lines so far. */
export class Cli {
  readonly proc: ChildProcess;
  readonly events: Event[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.proc = spawn(process.execPath, [cliPath, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      try { this.events.push(JSON.parse(l)); } catch { this.events.push({ text: l }); }
      for (const w of this.waiters.splice(0)) w();
    });
    this.proc.stderr!.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((res) => this.proc.on('exit', (code, signal) => { res(code ?? (signal ? -1 : null)); for (const w of this.waiters.splice(0)) w(); }));
  }

  /** Resolves with the first event (from the start) that `pred` accepts; rejects after `ms` or when the process ends first. */
  async waitFor(pred: (e: Event) => boolean, ms = 120_000): Promise<Event> {
    const deadline = Date.now() + ms;
    for (;;) {
      const e = this.events.find(pred);
      if (e) return e;
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`process ended before the event: ${this.stderr.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`no such event within ${ms} ms; stderr: ${this.stderr.slice(-2000)}`);
      await new Promise<void>((res) => { this.waiters.push(res); setTimeout(res, 200); });
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }
}

/** Runs the CLI to the end. */
export function cliSync(args: string[], timeout = 300_000, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd: root, encoding: 'utf8', timeout, maxBuffer: 1 << 26, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The lines of a results file, parsed; throws on a line that is not whole JSON. */
export function readResults(path: string): Array<Record<string, any>> {
  const text = readFileSync(path, 'utf8');
  if (text !== '' && !text.endsWith('\n')) throw new Error(`${path} ends with a torn line`);
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

/**
 * The lines of a results file by id (`line:N` for a line without one). `get` of an id with no line
 * throws, so a test fails naming the missing id instead of on a property of undefined.
 */
export class ResultsById extends Map<string, Record<string, any>> {
  constructor(lines: Array<Record<string, any>>) { super(lines.map((l) => [l.id ?? `line:${l.line}`, l])); }

  override get(id: string): Record<string, any> {
    const l = super.get(id);
    if (l === undefined) throw new Error(`no result line for ${id} (lines: ${[...this.keys()].join(', ')})`);
    return l;
  }
}

/** id → how many lines it has. */
export function idCounts(lines: Array<Record<string, any>>): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) { const k = l.id ?? `line:${l.line}`; m.set(k, (m.get(k) ?? 0) + 1); }
  return m;
}

export function writeJobs(dir: string, name: string, jobs: Array<object | string>): string {
  const p = join(dir, name);
  writeFileSync(p, jobs.map((j) => (typeof j === 'string' ? j : JSON.stringify(j))).join('\n') + '\n');
  return p;
}

/** Options that keep a job of the tiny model short: one frame, two tokens, a small context. */
export const quick = ['--frames', '1', '--max-tokens', '2', '--ctx-size', '512', '--temp', '0'];
