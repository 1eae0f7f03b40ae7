/** Option checks shared by the public API: each failure is ERR_INVALID_ARG naming the option. */
import { VidlmError } from './errors.js';

export function invalid(name: string, expected: string, got: unknown): VidlmError {
  const shown = typeof got === 'string' ? JSON.stringify(got) : String(got);
  return new VidlmError('ERR_INVALID_ARG', `${name} must be ${expected} (got ${shown})`, { option: name });
}

export function requireString(name: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) throw invalid(name, 'a non-empty string', v);
  return v;
}

export function optionalInt(name: string, v: unknown, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(name, `an integer from ${min} to ${max}`, v);
  return v;
}

export function optionalNumber(name: string, v: unknown, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw invalid(name, `a number from ${min} to ${max}`, v);
  return v;
}

export function optionalBool(name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw invalid(name, 'a boolean', v);
  return v;
}

export function optionalFunction<T extends (...a: never[]) => unknown>(name: string, v: unknown): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'function') throw invalid(name, 'a function', v);
  return v as T;
}

export function optionalSignal(name: string, v: unknown): AbortSignal | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof AbortSignal)) throw invalid(name, 'an AbortSignal', v);
  return v;
}
