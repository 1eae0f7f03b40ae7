/**
 * An OpenAI chat request (already schema-checked) as what the pipeline needs: messages as text
 * and media parts, the video options (vLLM's media kwargs, then the `vidlm` object, which wins),
 * and generation options. Everything unsupported is refused here with a 400 naming its param.
 */
import { checkReduce, fromPruningRate, type ReduceSpec } from '../reduce/option.js';
import type { GenerateOptions } from '../inference/context.js';
import type { PlanQuery } from '../pipeline/plan.js';
import { isSubtitleFile } from '../video/subtitles.js';
import { badRequest } from './errors.js';
import { parseToolCalls, parseTools, type ToolCall, type ToolRequest } from './tools.js';

/** A media part; `audio`: an `input_audio` part (sound only). */
export type Part = { kind: 'text'; text: string } | { kind: 'media'; url: string; param: string; audio?: boolean };
/** `toolCalls`: an assistant's calls; `toolCallId`: the call a `tool` message answers. */
export interface Message { role: 'system' | 'user' | 'assistant' | 'tool'; parts: Part[]; toolCalls?: ToolCall[]; toolCallId?: string }

/**
 * A request's `vidlm` options: the pipeline's query (PlanQuery) less what the server sets itself
 * (its slot's context, the fit, the parts that share it). A subtitle file is a path inside the
 * media folder; `reduce` is checked at parse (vLLM's `video_pruning_rate` too).
 */
export type VideoOptions = Omit<PlanQuery, 'contextSize' | 'fit' | 'parts' | 'soundOnly'>;

export interface ParsedRequest {
  messages: Message[];
  video: VideoOptions;
  generate: Omit<GenerateOptions, 'signal' | 'sequence'>;
  stream: boolean;
  includeUsage: boolean;
  /** The request's tools, when it has any. */
  tools?: ToolRequest;
}

type UrlField = string | { url: string };
interface RawPart { type: string; text?: string; image_url?: UrlField; video_url?: UrlField; input_video?: { data?: string; url?: string; format?: string }; input_audio?: { data: string; format?: 'wav' | 'mp3' } }
interface RawMessage { role: string; content?: string | null | RawPart[]; tool_calls?: unknown; tool_call_id?: unknown }
export interface ChatBody {
  model?: string;
  messages: RawMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  temperature?: number | null;
  top_p?: number | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  n?: number | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  tools?: unknown[] | null;
  tool_choice?: unknown;
  parallel_tool_calls?: boolean | null;
  response_format?: { type: 'text' | 'json_object' | 'json_schema'; json_schema?: { schema?: object } };
  media_io_kwargs?: { video?: { num_frames?: number; fps?: number } };
  mm_processor_kwargs?: { fps?: number };
  video_pruning_rate?: number | null;
  vidlm?: Partial<VideoOptions>;
}

/** A subtitle track's language tag (a file name is anything else that isSubtitleFile accepts). */
const LANGUAGE = /^[a-z]{2,3}(-[a-zA-Z0-9]{1,8})?$/i;

const urlOf = (v: UrlField | undefined) => (typeof v === 'string' ? v : v?.url);

function part(p: RawPart, param: string): Part {
  switch (p.type) {
    case 'text':
      if (typeof p.text !== 'string') throw badRequest('invalid_value', 'a text part needs a string `text`', `${param}.text`);
      return { kind: 'text', text: p.text };
    case 'image_url':
    case 'video_url': {
      const url = urlOf(p[p.type]);
      if (typeof url !== 'string' || url.length === 0) throw badRequest('invalid_value', `a ${p.type} part needs ${p.type}.url`, `${param}.${p.type}`);
      return { kind: 'media', url, param: `${param}.${p.type}` };
    }
    case 'input_video': {
      // llama-server's part: { data: base64 (or a data URL), format? } or { url }
      const v = p.input_video;
      if (v?.url) return { kind: 'media', url: v.url, param: `${param}.input_video.url` };
      if (typeof v?.data === 'string' && v.data.length > 0) {
        const url = v.data.startsWith('data:') ? v.data : `data:video/${v.format ?? 'mp4'};base64,${v.data}`;
        return { kind: 'media', url, param: `${param}.input_video.data` };
      }
      throw badRequest('invalid_value', 'an input_video part needs input_video.data (base64) or input_video.url', `${param}.input_video`);
    }
    case 'input_audio': {
      // OpenAI's part: { data: base64, format: 'wav' | 'mp3' } (the schema checked both); a data URL is taken as it is
      const a = p.input_audio;
      if (!a || typeof a.data !== 'string' || a.data.length === 0) throw badRequest('invalid_value', 'an input_audio part needs input_audio.data (base64) and its format', `${param}.input_audio`);
      const url = a.data.startsWith('data:') ? a.data : `data:audio/${a.format ?? 'wav'};base64,${a.data}`;
      return { kind: 'media', url, param: `${param}.input_audio.data`, audio: true };
    }
    default:
      throw badRequest('invalid_content_part', `unsupported content part type ${JSON.stringify(p.type)}: use text, image_url, video_url, input_video or input_audio`, `${param}.type`);
  }
}

function message(m: RawMessage, i: number): Message {
  const param = `messages[${i}]`;
  if (m.role === 'tool' && (typeof m.tool_call_id !== 'string' || m.tool_call_id.length === 0)) throw badRequest('invalid_value', 'a tool message needs the tool_call_id it answers', `${param}.tool_call_id`);
  if (m.tool_calls !== undefined && m.tool_calls !== null && m.role !== 'assistant') throw badRequest('invalid_value', 'only assistant messages have tool_calls', `${param}.tool_calls`);
  const role = m.role === 'developer' ? 'system' : (m.role as Message['role']);
  const content = m.content ?? '';
  const parts = typeof content === 'string' ? [{ kind: 'text' as const, text: content }] : content.map((p, k) => part(p, `${param}.content[${k}]`));
  if (role !== 'user' && parts.some((p) => p.kind === 'media')) throw badRequest('invalid_value', `media parts belong in user messages (not ${m.role})`, `${param}.content`);
  const toolCalls = m.tool_calls !== undefined && m.tool_calls !== null ? parseToolCalls(m.tool_calls, `${param}.tool_calls`) : undefined;
  return { role, parts, ...(toolCalls && toolCalls.length > 0 ? { toolCalls } : {}), ...(m.role === 'tool' ? { toolCallId: m.tool_call_id as string } : {}) };
}

export function parseRequest(b: ChatBody): ParsedRequest {
  if ((b.n ?? 1) > 1) throw badRequest('unsupported_parameter', 'n > 1 is not supported: send one request per choice', 'n');
  const tools = parseTools(b);
  if (b.logprobs) throw badRequest('unsupported_parameter', 'logprobs are not supported', 'logprobs');
  if (b.top_logprobs) throw badRequest('unsupported_parameter', 'top_logprobs are not supported', 'top_logprobs');
  const messages = b.messages.map(message);
  if (messages[messages.length - 1]!.role === 'assistant') throw badRequest('invalid_value', 'the last message must not be the assistant\'s (continuing an answer is not supported)', `messages[${messages.length - 1}].role`);

  const v = b.vidlm ?? {};
  const frames = v.frames ?? b.media_io_kwargs?.video?.num_frames;
  const fps = v.fps ?? (v.frames === undefined ? b.media_io_kwargs?.video?.fps ?? b.mm_processor_kwargs?.fps : undefined);
  if (frames !== undefined && fps !== undefined) throw badRequest('invalid_value', 'give a frame count or an fps, not both', 'vidlm.frames');
  if (v.fpsRule !== undefined && fps === undefined) throw badRequest('invalid_value', 'fpsRule chooses the frames of an fps plan: give vidlm.fps with it', 'vidlm.fpsRule');
  const segment = v.segment as [number, number] | undefined;
  if (segment && !(segment[0] < segment[1])) throw badRequest('invalid_value', `segment must be [start, end] with start < end (got ${JSON.stringify(segment)})`, 'vidlm.segment');
  const subtitles = v.subtitles;
  if (typeof subtitles === 'string' && !LANGUAGE.test(subtitles) && !isSubtitleFile(subtitles)) {
    throw badRequest('invalid_value', `subtitles must be true, a language tag (en, fre, pt-BR), a stream index or a .srt/.vtt/.ass file in the media folder (got ${JSON.stringify(subtitles.slice(0, 100))})`, 'vidlm.subtitles');
  }
  const reduce = requestReduce(v.reduce, b.video_pruning_rate);
  const video: VideoOptions = {
    strategy: v.strategy ?? 'auto', frames, fps, ...(v.fpsRule !== undefined ? { fpsRule: v.fpsRule } : {}), segment, ...(v.timeTokens !== undefined ? { timeTokens: v.timeTokens } : {}), preamble: v.preamble ?? false,
    ...(v.audio !== undefined && v.audio !== false ? { audio: v.audio } : {}),
    ...(v.audioWindow !== undefined ? { audioWindow: v.audioWindow } : {}),
    ...(v.audioLength !== undefined ? { audioLength: v.audioLength } : {}),
    ...(subtitles !== undefined && subtitles !== false ? { subtitles } : {}),
    ...(reduce !== undefined ? { reduce } : {}),
  };

  const generate: ParsedRequest['generate'] = {
    maxTokens: b.max_completion_tokens ?? b.max_tokens ?? undefined,
    temperature: b.temperature ?? undefined,
    topP: b.top_p ?? undefined,
    seed: b.seed ?? undefined,
    stop: b.stop == null ? undefined : typeof b.stop === 'string' ? [b.stop] : b.stop,
  };
  const rf = b.response_format;
  if (rf?.type === 'json_object') generate.jsonSchema = { type: 'object' };
  else if (rf?.type === 'json_schema') {
    if (!rf.json_schema?.schema) throw badRequest('invalid_value', 'response_format json_schema needs json_schema.schema', 'response_format.json_schema.schema');
    generate.jsonSchema = rf.json_schema.schema;
  }
  if (tools?.choice === 'required' && generate.jsonSchema) throw badRequest('invalid_value', 'a forced tool call and response_format cannot both constrain the answer', 'response_format');
  return { messages, video, generate, stream: b.stream === true, includeUsage: b.stream_options?.include_usage === true, ...(tools ? { tools } : {}) };
}

/** `vidlm.reduce` (it wins) or vLLM's `video_pruning_rate`, checked here (a 400 naming the field) and kept checked for the pipeline. */
function requestReduce(v: unknown, rate: unknown): ReduceSpec | null | undefined {
  try {
    if (v !== undefined) return checkReduce(v, 'vidlm.reduce');
    const r = fromPruningRate(rate);
    return r === undefined ? undefined : checkReduce(r, 'video_pruning_rate');
  } catch (e) {
    const param = v !== undefined ? 'vidlm.reduce' : 'video_pruning_rate';
    throw badRequest('invalid_value', e instanceof Error ? e.message : String(e), param);
  }
}
