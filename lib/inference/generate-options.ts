/**
 * Generation options, checked before any work: types and ranges (ERR_INVALID_ARG), then the
 * grammar or JSON schema, which llama.cpp parses (ERR_GRAMMAR). A JSON schema's nesting is
 * bounded here before it is serialised or converted, since both recurse once per level.
 */
import { VidlmError } from '../errors.js';
import type { NativeGenerateParams, NativeModel } from '../native.js';
import { invalid, optionalInt, optionalNumber } from '../options.js';
import { checkSchemaPatterns } from './schema-patterns.js';

export interface GenerateOptions {
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repeatPenalty?: number;
  repeatLastN?: number;
  seed?: number;
  /** Strings that end the answer (not included in it). */
  stop?: string[];
  /** GBNF grammar the answer must follow. */
  grammar?: string;
  /** JSON schema (object or JSON text) the answer must follow. */
  jsonSchema?: object | string;
  sequence?: number;
  signal?: AbortSignal;
}

/** Deepest nesting of objects and arrays a JSON schema may have (native/grammar_bounds.h). */
export const maxSchemaDepth = 64;

function schemaDepth(root: unknown): number {
  let deepest = 0;
  const todo: [unknown, number][] = [[root, 1]];
  while (todo.length > 0) {
    const [v, d] = todo.pop()!;
    if (v === null || typeof v !== 'object') continue;
    deepest = Math.max(deepest, d);
    if (d > maxSchemaDepth) return d; // also ends a cycle
    for (const child of Object.values(v)) todo.push([child, d + 1]);
  }
  return deepest;
}

function schemaText(v: object | string): string {
  let parsed: unknown = v;
  if (typeof v === 'string') {
    try { parsed = JSON.parse(v); } catch (e) { throw new VidlmError('ERR_GRAMMAR', `jsonSchema is not JSON: ${(e as Error).message}`); }
  }
  const depth = schemaDepth(parsed);
  if (depth > maxSchemaDepth) throw new VidlmError('ERR_GRAMMAR', `jsonSchema nests more than ${maxSchemaDepth} levels`, { maxDepth: maxSchemaDepth });
  checkSchemaPatterns(parsed);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The native parameters of `opts`, every field checked; grammar and schema as given (see resolveGrammar). */
export function generateParams(opts: GenerateOptions): NativeGenerateParams {
  if (opts === null || typeof opts !== 'object') throw invalid('options', 'an object', opts);
  const p: NativeGenerateParams = {
    maxTokens: optionalInt('maxTokens', opts.maxTokens, 1, 1 << 20, 256),
    temperature: opts.temperature === undefined ? undefined : optionalNumber('temperature', opts.temperature, 0, 100, 0),
    topK: opts.topK === undefined ? undefined : optionalInt('topK', opts.topK, 0, 1 << 20, 0),
    topP: opts.topP === undefined ? undefined : optionalNumber('topP', opts.topP, 0, 1, 1),
    minP: opts.minP === undefined ? undefined : optionalNumber('minP', opts.minP, 0, 1, 0),
    repeatPenalty: opts.repeatPenalty === undefined ? undefined : optionalNumber('repeatPenalty', opts.repeatPenalty, 0, 10, 1),
    repeatLastN: opts.repeatLastN === undefined ? undefined : optionalInt('repeatLastN', opts.repeatLastN, -1, 1 << 20, 64),
    seed: opts.seed === undefined ? undefined : optionalInt('seed', opts.seed, 0, 0xffffffff, 0),
  };
  if (opts.stop !== undefined) {
    if (!Array.isArray(opts.stop) || opts.stop.some((s) => typeof s !== 'string')) throw invalid('stop', 'an array of strings', opts.stop);
    p.stop = [...opts.stop];
  }
  if (opts.grammar !== undefined && opts.jsonSchema !== undefined) {
    throw new VidlmError('ERR_INVALID_ARG', 'give grammar or jsonSchema, not both', { option: 'grammar' });
  }
  if (opts.grammar !== undefined) {
    if (typeof opts.grammar !== 'string' || opts.grammar.length === 0) throw invalid('grammar', 'GBNF text (a non-empty string)', opts.grammar);
    p.grammar = opts.grammar;
  }
  if (opts.jsonSchema !== undefined) {
    if (typeof opts.jsonSchema !== 'string' && (opts.jsonSchema === null || typeof opts.jsonSchema !== 'object')) {
      throw invalid('jsonSchema', 'an object or JSON text', opts.jsonSchema);
    }
    p.jsonSchema = schemaText(opts.jsonSchema);
  }
  return p;
}

/** Parses the grammar, or converts the schema to one, with llama.cpp now: ERR_GRAMMAR before any work. */
export function resolveGrammar(model: NativeModel, p: NativeGenerateParams): NativeGenerateParams {
  if (p.jsonSchema !== undefined) {
    const { jsonSchema, ...rest } = p;
    return { ...rest, grammar: model.schemaToGrammar(jsonSchema) };
  }
  if (p.grammar !== undefined) model.checkGrammar(p.grammar);
  return p;
}
