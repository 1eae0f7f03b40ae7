/**
 * Tool calling (OpenAI's `tools`, `tool_choice`, `tool_calls`, `tool` results) through llama.cpp's
 * own chat code: the template renders the tools in the model family's format (or llama.cpp's
 * generic JSON format for templates without tool support), a forced call (`required`, a named
 * function) is generated under the grammar llama.cpp builds for that format, and the output is
 * read back by that format's parser. `auto` generates freely and parses: llama.cpp's lazy
 * grammars (constrained from a trigger on) are not supported by vidlm's sampler.
 */
import { randomUUID } from 'node:crypto';
import type { Sequence } from '../inference/context.js';
import type { GenerateResult } from '../inference/generation.js';
import type { Model } from '../model.js';
import type { NativeParsedOutput, NativeToolsTemplate } from '../native.js';
import { badRequest } from './errors.js';

export interface ToolCall { id: string; type: 'function'; function: { name: string; arguments: string } }
interface FunctionTool { type: 'function'; function: { name: string; description?: string; parameters: object } }

/** The request's tools as llama.cpp takes them: a named choice is `required` over that function alone. */
export interface ToolRequest { tools: FunctionTool[]; choice: 'auto' | 'none' | 'required'; parallel: boolean }

/** A streamed answer's next delta: text, or tool calls as OpenAI streams them. */
export type Delta = { content: string } | { tool_calls: Array<{ index: number; id?: string; type?: 'function'; function: { name?: string; arguments: string } }> };

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function tool(t: unknown, i: number): FunctionTool {
  const param = `tools[${i}]`;
  if (!isObject(t) || t.type !== 'function') throw badRequest('invalid_value', 'a tool must be {type: "function", function: {...}}', `${param}.type`);
  const f = t.function;
  if (!isObject(f)) throw badRequest('invalid_value', 'a tool needs a `function` object', `${param}.function`);
  if (typeof f.name !== 'string' || !NAME.test(f.name)) throw badRequest('invalid_value', 'a function name is 1-64 letters, digits, _ or -', `${param}.function.name`);
  if (f.description !== undefined && typeof f.description !== 'string') throw badRequest('invalid_value', 'a function description is a string', `${param}.function.description`);
  if (f.parameters !== undefined && !isObject(f.parameters)) throw badRequest('invalid_value', 'function parameters are a JSON schema object', `${param}.function.parameters`);
  return { type: 'function', function: { name: f.name, ...(f.description !== undefined ? { description: f.description } : {}), parameters: (f.parameters as object | undefined) ?? { type: 'object', properties: {} } } };
}

/** `tools`, `tool_choice` and `parallel_tool_calls` checked (400 naming the param), or undefined without tools. */
export function parseTools(b: { tools?: unknown; tool_choice?: unknown; parallel_tool_calls?: unknown }): ToolRequest | undefined {
  if (b.tools !== undefined && b.tools !== null && !Array.isArray(b.tools)) throw badRequest('invalid_value', 'tools must be an array', 'tools');
  const tools = ((b.tools as unknown[] | null | undefined) ?? []).map(tool);
  const names = new Set<string>();
  tools.forEach((t, i) => {
    if (names.has(t.function.name)) throw badRequest('invalid_value', `two tools are named ${t.function.name}`, `tools[${i}].function.name`);
    names.add(t.function.name);
  });
  if (b.parallel_tool_calls !== undefined && b.parallel_tool_calls !== null && typeof b.parallel_tool_calls !== 'boolean') throw badRequest('invalid_value', 'parallel_tool_calls is a boolean', 'parallel_tool_calls');
  const parallel = b.parallel_tool_calls === true;
  const c = b.tool_choice ?? undefined;
  let choice: ToolRequest['choice'] = tools.length > 0 ? 'auto' : 'none';
  let chosen = tools;
  if (c === 'auto' || c === 'none' || c === 'required') choice = c;
  else if (isObject(c) && c.type === 'function' && isObject(c.function) && typeof c.function.name === 'string') {
    chosen = tools.filter((t) => t.function.name === (c.function as { name: string }).name);
    if (chosen.length === 0) throw badRequest('invalid_value', `tool_choice names ${JSON.stringify(c.function.name.slice(0, 64))}, which is not in tools`, 'tool_choice.function.name');
    choice = 'required';
  } else if (c !== undefined) throw badRequest('invalid_value', 'tool_choice is "auto", "none", "required" or {type: "function", function: {name}}', 'tool_choice');
  if (choice === 'required' && tools.length === 0) throw badRequest('invalid_value', `tool_choice ${JSON.stringify(c)} needs tools`, 'tool_choice');
  return tools.length > 0 ? { tools: chosen, choice, parallel } : undefined;
}

/** An assistant message's `tool_calls`, checked. */
export function parseToolCalls(raw: unknown, param: string): ToolCall[] {
  if (!Array.isArray(raw)) throw badRequest('invalid_value', 'tool_calls must be an array', param);
  return raw.map((c, k) => {
    const p = `${param}[${k}]`;
    if (!isObject(c) || (c.type !== undefined && c.type !== 'function') || !isObject(c.function)) throw badRequest('invalid_value', 'a tool call is {id, type: "function", function: {name, arguments}}', p);
    const f = c.function;
    if (typeof f.name !== 'string' || f.name.length === 0) throw badRequest('invalid_value', 'a tool call needs function.name', `${p}.function.name`);
    if (typeof f.arguments !== 'string') throw badRequest('invalid_value', 'a tool call\'s function.arguments is JSON text', `${p}.function.arguments`);
    try { JSON.parse(f.arguments); } catch { throw badRequest('invalid_value', 'a tool call\'s function.arguments is not valid JSON', `${p}.function.arguments`); }
    return { id: typeof c.id === 'string' ? c.id : '', type: 'function', function: { name: f.name, arguments: f.arguments } };
  });
}

/** The rendered turns (media as the model's markers) with their source messages' tool calls and results (withToolFields), rendered with the tools by llama.cpp; 400 when the template or a schema refuses. */
export async function toolsTemplate(model: Model, rendered: ReadonlyArray<{ role: string; content: string }>, source: ReadonlyArray<{ toolCalls?: ToolCall[]; toolCallId?: string }>,
  req: ToolRequest | undefined, template?: string): Promise<NativeToolsTemplate> {
  const messages = withToolFields(rendered, source);
  let t: NativeToolsTemplate;
  try {
    t = await model.handle.applyToolsTemplateAsync(JSON.stringify(messages), JSON.stringify(req?.tools ?? []), { toolChoice: req?.choice ?? 'none', parallelToolCalls: req?.parallel ?? false, ...(template ? { template } : {}) });
  } catch (e) {
    throw badRequest('invalid_value', `the model's chat template refused the messages or tools: ${(e as Error).message}`, req ? 'tools' : 'messages');
  }
  // a template that cannot show the model its tools (or the calls and results) would drop them silently
  if (req && req.choice !== 'none' && !(t.supportsTools && t.grammar)) {
    throw badRequest('unsupported_value', 'the model\'s chat template does not render tools: give the server a template that does (--chat-template-file)', 'tools');
  }
  if (!t.supportsToolCalls && messages.some((m) => 'tool_calls' in m || 'tool_call_id' in m)) {
    throw badRequest('unsupported_value', 'the model\'s chat template does not render tool calls and results: give the server a template that does (--chat-template-file)', 'messages');
  }
  return t;
}

const parse = (model: Model, t: NativeToolsTemplate, text: string, partial: boolean): Promise<NativeParsedOutput> =>
  model.handle.parseChatOutputAsync(text, { partial, format: t.format, generationPrompt: t.generationPrompt, parser: t.parser });

/**
 * Reads an answer as it is generated: each piece re-parses the text so far (partial), and what
 * changed since the last parse becomes deltas, as OpenAI streams them (a call's index, id and
 * name first, then its arguments in pieces). finish() parses the whole text.
 */
export class ToolStream {
  #text = '';
  #sentContent = '';
  #calls: ToolCall[] = [];
  #parsing: Promise<void> = Promise.resolve();
  #dirty = false;

  /** `maxCalls`: more calls than this end the answer (`enough`); the extra ones are dropped. */
  constructor(private readonly model: Model, private readonly template: NativeToolsTemplate, private readonly onDelta: (d: Delta) => void,
    private readonly maxCalls = Infinity, private readonly enough: () => void = () => {}) {}

  push(piece: string): void {
    this.#text += piece;
    if (this.#dirty) return; // a parse is queued: it reads the newest text
    this.#dirty = true;
    this.#parsing = this.#parsing.then(async () => {
      this.#dirty = false;
      // a partial text that does not parse yet waits for more pieces
      const out = await parse(this.model, this.template, this.#text, true).catch(() => null);
      if (out) this.#emit(out);
    });
  }

  /** The whole answer parsed (`partial` when it was cut short); the deltas not sent yet are sent. */
  async finish(partial: boolean): Promise<{ content: string; toolCalls: ToolCall[] }> {
    await this.#parsing;
    let out: NativeParsedOutput;
    try {
      out = await parse(this.model, this.template, this.#text, partial);
    } catch {
      out = { content: this.#text, reasoningContent: '', toolCalls: [] }; // not the format's: plain text
    }
    this.#emit(out);
    // the answer's calls are the final parse's (ids as streamed)
    const calls = out.toolCalls.slice(0, this.maxCalls).filter((c) => c.name).map((c, i) => ({ ...this.#calls[i]!, function: { name: c.name, arguments: c.arguments } }));
    return { content: out.content, toolCalls: calls };
  }

  #emit(out: NativeParsedOutput): void {
    if (out.content.startsWith(this.#sentContent) && out.content.length > this.#sentContent.length) {
      this.onDelta({ content: out.content.slice(this.#sentContent.length) });
      this.#sentContent = out.content;
    }
    if (out.toolCalls.length > this.maxCalls) this.enough();
    out.toolCalls.slice(0, this.maxCalls).forEach((c, index) => {
      let sent = this.#calls[index];
      if (!sent) {
        if (!c.name) return; // the name comes first
        sent = { id: c.id || `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`, type: 'function', function: { name: c.name, arguments: '' } };
        this.#calls[index] = sent;
        this.onDelta({ tool_calls: [{ index, id: sent.id, type: 'function', function: { name: c.name, arguments: '' } }] });
      }
      // arguments grow as text; a partial parse that rewrote them waits for the final one
      if (c.arguments.startsWith(sent.function.arguments) && c.arguments.length > sent.function.arguments.length) {
        this.onDelta({ tool_calls: [{ index, function: { arguments: c.arguments.slice(sent.function.arguments.length) } }] });
        sent.function.arguments = c.arguments;
      }
    });
  }
}

/** The template's messages (media as markers) with the request's tool calls and tool results, as OpenAI's JSON. */
export function withToolFields(rendered: ReadonlyArray<{ role: string; content: string }>, messages: ReadonlyArray<{ toolCalls?: ToolCall[]; toolCallId?: string }>): object[] {
  return rendered.map((m, i) => {
    const src = messages[i]!;
    return { role: m.role, content: m.content, ...(src.toolCalls ? { tool_calls: src.toolCalls } : {}), ...(src.toolCallId !== undefined ? { tool_call_id: src.toolCallId } : {}) };
  });
}

/**
 * The answer to a request rendered with tools: a forced call (`required`, a named function)
 * generates under llama.cpp's grammar for the format (without the generation prompt it starts
 * with), `auto` freely; the text is parsed into content and calls, streamed as deltas. Without
 * parallel_tool_calls the answer ends when a second call starts (llama.cpp's grammars for
 * JSON formats allow several): it keeps the first.
 */
export async function generateWithTools(model: Model, sequence: Sequence, chat: NativeToolsTemplate, req: { generate: Parameters<Sequence['generate']>[0]; tools?: ToolRequest }, signal: AbortSignal, onPiece: (d: Delta) => void): Promise<{ g: GenerateResult; parsed: { content: string; toolCalls: ToolCall[] } }> {
  const grammar = req.tools?.choice !== 'required' || !chat.grammar ? undefined
    : chat.grammarAfterPrompt ? { grammar: chat.grammarAfterPrompt } : { grammar: chat.grammar, grammarPrefill: chat.generationPrompt };
  const stop = chat.additionalStops.length > 0 ? [...(req.generate?.stop ?? []), ...chat.additionalStops] : req.generate?.stop;
  const enough = new AbortController();
  const stream = new ToolStream(model, chat, onPiece, req.tools?.parallel ? Infinity : 1, () => enough.abort());
  const t0 = performance.now();
  const gen = sequence.generate({ ...req.generate, ...grammar, stop, signal: AbortSignal.any([signal, enough.signal]) });
  let g: GenerateResult;
  try {
    for await (const piece of gen) stream.push(piece);
    g = await gen;
  } catch (e) {
    if (signal.aborted || !enough.signal.aborted) throw e;
    // stopped here: the text so far, as the abort reports it
    const d = (e as { details?: { text?: string; generated?: number } }).details ?? {};
    const ms = performance.now() - t0;
    g = { text: d.text ?? '', stopReason: 'stop', tokens: { generated: d.generated ?? 0 }, timings: { firstTokenMs: 0, generateMs: ms, tokensPerSecond: ((d.generated ?? 0) * 1000) / ms } };
  }
  const parsed = await stream.finish(enough.signal.aborted || (g.stopReason !== 'eos' && g.stopReason !== 'stop'));
  return { g, parsed };
}
