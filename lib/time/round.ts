/**
 * Rounding exactly as the Python reference code does it, so that time tokens and printed
 * timestamps match the papers' own numbers bit for bit.
 */

/** numpy/torch `round` to an integer: ties go to the even neighbour (JS Math.round sends them up). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const frac = x - f; // exact for doubles below 2^52
  if (frac < 0.5) return f;
  if (frac > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Python's `format(x, '.Nf')`: correctly rounded on the exact binary value with ties to even.
 * JS `toFixed` sends exact ties up (0.125 → "0.13"; Python gives "0.12").
 */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x.toFixed(digits);
  // toFixed(100) is the exact decimal expansion for any value a timestamp can take.
  const exact = Math.abs(x).toFixed(100);
  const [whole, frac] = exact.split('.') as [string, string];
  const kept = frac.slice(0, digits);
  const rest = frac.slice(digits);
  let n = BigInt(whole + kept);
  const first = rest.charCodeAt(0) - 48;
  const tail = /[1-9]/.test(rest.slice(1));
  if (first > 5 || (first === 5 && (tail || n % 2n === 1n))) n += 1n;
  let s = n.toString().padStart(digits + 1, '0');
  if (digits > 0) s = `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`;
  return (x < 0 || Object.is(x, -0) ? '-' : '') + s;
}

/** Python's `round(x, ndigits)` for floats. */
export function pyRound(x: number, ndigits: number): number {
  return Number(formatFixed(x, ndigits));
}
