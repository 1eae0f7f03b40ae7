/**
 * The page's budget before asking: countMediaTokens() on the media a request would name, with the
 * request's own video options parsed by the chat endpoint's parser (same checks, same errors) and
 * the strategy the server would choose. A plan that cannot fit at all is an answer here
 * (fits: false, with the error the question would get), not a failure.
 */
import { countWithOpenOptions } from '../../api/count.js';
import { chooseStrategy, mediaTokenBudget } from '../../pipeline/plan.js';
import { VidlmError } from '../../errors.js';
import type { ServerState } from '../completion.js';
import { toOpenAIError } from '../errors.js';
import { resolveSubtitles } from '../media.js';
import { resolveMedia } from '../media.js';
import { parseRequest, type ChatBody } from '../request.js';

export interface BudgetBody { url: string; vidlm?: Record<string, unknown>; media_io_kwargs?: Record<string, unknown> }

export const budgetBody = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: {
    url: { type: 'string', minLength: 1 },
    vidlm: { type: 'object' },
    media_io_kwargs: { type: 'object' },
  },
} as const;

export async function mediaBudget(s: ServerState, body: BudgetBody, signal: AbortSignal): Promise<object> {
  const { video: v } = parseRequest({
    messages: [{ role: 'user', content: [{ type: 'video_url', video_url: { url: body.url } }] }],
    vidlm: body.vidlm, media_io_kwargs: body.media_io_kwargs,
  } as unknown as ChatBody);
  const info = s.model.info;
  const sound = v.audio !== undefined;
  if (sound && !info.audio) throw new VidlmError('ERR_UNSUPPORTED', "the model's mmproj has no audio encoder: it cannot take sound (vidlm.audio)", { option: 'vidlm.audio' });
  const media = await resolveMedia(body.url, s.options, s.remote, signal, 'url');
  const subtitles = await resolveSubtitles(v.subtitles, s.options);
  // the completion path's budget and choice for one media part (lib/pipeline/plan.ts)
  const strategy = sound || !info.vision ? 'native' : chooseStrategy(v.strategy ?? 'auto', info, mediaTokenBudget(s.contextSize), v.frames);
  try {
    const c = await countWithOpenOptions(media.input, {
      model: s.model, contextSize: s.contextSize, strategy, frames: v.frames, fps: v.fps, segment: v.segment,
      timeTokens: v.timeTokens, preamble: v.preamble, audio: v.audio, audioWindow: v.audioWindow, subtitles, signal,
    }, media.ffmpegOptions);
    const reason = c.fits ? null : `${c.total} media tokens; the slot leaves ${c.budget} of its ${c.contextSize} for media: ask for fewer frames, a lower fps or a pooling strategy`;
    return { ...c, reason, error: null };
  } catch (e) {
    if (!(e instanceof VidlmError) || e.code !== 'ERR_CONTEXT_FULL') throw e;
    return { strategy, contextSize: s.contextSize, fits: false, reason: e.message, error: toOpenAIError(e).body.error };
  }
}
