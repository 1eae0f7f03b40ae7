// Shared by the reliability tests: scripts that must run in a process of their own (worker
// threads, teardown, stderr), and the checks on how that process ended.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Ended { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs test/reliability/scripts/<name> with node (it imports the compiled dist/). */
export function runScript(name: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Ended> {
  const file = fileURLToPath(new URL(`./scripts/${name}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The last line of stdout as JSON: what the script reports. */
export function report<T>(r: Ended): T {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try { return JSON.parse(line) as T; } catch { throw new Error(`no report from the script (code ${r.code}, signal ${r.signal}):\n${r.stdout}\n${r.stderr}`); }
}
