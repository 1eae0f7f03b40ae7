/**
 * The regular expressions of a JSON schema (`pattern`, the keys of `patternProperties`), checked
 * before llama.cpp converts the schema: its converter takes some broken patterns without a word
 * (an unanchored one, or one it cannot read, becomes any string: the constraint silently gone) and
 * loops without end on others (`a{2,1}`). JSON Schema's patterns are ECMA-262 expressions, so
 * JavaScript's own RegExp is the judge of what is one; llama.cpp's converter also needs `^…$`.
 */
import { VidlmError } from '../errors.js';

function checkRegex(p: string, where: string, anchored: boolean): void {
  try {
    new RegExp(p, 'u');
  } catch (e) {
    throw new VidlmError('ERR_GRAMMAR', `jsonSchema ${where} ${JSON.stringify(p)} is not a valid regular expression: ${(e as Error).message}`, { pattern: p });
  }
  if (anchored && !(p.startsWith('^') && p.endsWith('$') && !p.endsWith('\\$'))) {
    throw new VidlmError('ERR_GRAMMAR', `jsonSchema ${where} ${JSON.stringify(p)} must match the whole string, from ^ to $ (llama.cpp's converter would drop it)`, { pattern: p });
  }
}

/** Throws ERR_GRAMMAR for the first broken pattern anywhere in `schema` (an acyclic, depth-checked value). */
export function checkSchemaPatterns(schema: unknown): void {
  const todo: unknown[] = [schema];
  while (todo.length > 0) {
    const v = todo.pop();
    if (v === null || typeof v !== 'object') continue;
    if (!Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.pattern === 'string') checkRegex(o.pattern, 'pattern', true);
      const pp = o.patternProperties;
      if (pp !== null && typeof pp === 'object' && !Array.isArray(pp)) for (const k of Object.keys(pp)) checkRegex(k, 'patternProperties key', false);
    }
    todo.push(...Object.values(v));
  }
}
