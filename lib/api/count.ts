/**
 * countMediaTokens(): what a question about a video will cost in media tokens, known before any
 * picture or sound is decoded: the plan and media budget ask() checks first (frames, audio chunks,
 * subtitle cues), returned instead of judged. It reads the file's index (and, with subtitles, its
 * cues); nothing is encoded and no context is made.
 */
import { measureMediaBudget, type MediaBudget } from '../pipeline/media-budget.js';
import { planVideo } from '../pipeline/plan.js';
import type { StrategyName } from '../assembly/types.js';
import { openVideo } from '../video/video.js';
import type { VideoInput } from '../video/types.js';
import { checkQuery, checkVideoInput } from './options.js';
import type { VideoQueryOptions } from './types.js';
import { checkPlanLimits, plannedMedia } from '../limits.js';

export interface MediaTokenCount extends MediaBudget {
  /** The strategy the question would use ('auto' resolved). */
  strategy: StrategyName;
  /** Tokens the context leaves for media: contextSize less the text reserve. */
  budget: number;
  contextSize: number;
  /** total <= budget: ask() would go on to decode (otherwise it fails with ERR_CONTEXT_FULL first). */
  fits: boolean;
  /** With `reduce`: frameTokens is the most the reduction keeps (the bound of { tokens } / { ratio }; every token for 'auto'); ask() reports the real count. */
  upperBound?: true;
}

/**
 * Counts the media tokens of a question with these options (the ones ask() takes) before any
 * work: frames on the strategy's path (pooled counts, or libmtmd's image count with frame pairs),
 * audio chunks (libmtmd's Whisper-family count; `audioTokens` null for families it does not know)
 * and subtitle cue lines. A plan whose frames alone or sound alone cannot fit throws
 * ERR_CONTEXT_FULL as ask() does; otherwise `fits` says whether ask() would go on.
 */
export async function countMediaTokens(video: VideoInput, options: VideoQueryOptions): Promise<MediaTokenCount> {
  return countWithOpenOptions(video, options, undefined);
}

/**
 * @internal countMediaTokens with FFmpeg's open options for the input: the server's page opens a
 * client's media with the same format and protocol allow-lists as its requests.
 */
export async function countWithOpenOptions(video: VideoInput, options: VideoQueryOptions, ffmpegOptions: Record<string, string> | undefined): Promise<MediaTokenCount> {
  checkVideoInput(video);
  const q = checkQuery(options, { sequences: 1 });
  return q.guard.run(async () => {
    const { model } = q;
    const signal = q.guard.signal;
    const source = await openVideo(video, { signal, allowAudioOnly: model.info.audio, ...(ffmpegOptions ? { ffmpegOptions } : {}) });
    try {
      const plan = planVideo(source.probe, model.info, q);
      const { budget } = await measureMediaBudget(source, plan, model.info, (text) => model.handle.countTokens(text), signal);
      checkPlanLimits(model.limits, plannedMedia(budget, source.probe.video, model.info.imageSize));
      const room = q.contextSize - plan.reserve;
      return { ...budget, strategy: plan.strategy, budget: room, contextSize: q.contextSize, fits: budget.total <= room, ...(q.reduce ? { upperBound: true as const } : {}) };
    } finally {
      await source.close();
    }
  });
}
