/**
 * The stages before a context: open → plan → budget → sample → encode → assemble, for one video.
 * ask() (prepare in index.ts) and the server call it; each caller adds its own inputs here, not
 * copies of the stages: the server its media budget per part, its limits before decoding, the
 * bytes' identity and an encoder that shares running encodes between requests.
 */
import { throwIfAborted } from '../errors.js';
import { openVideo } from '../video/video.js';
import type { VideoInput } from '../video/types.js';
import { readRemembered } from './media-memo.js';
import type { ReadQuery, ReadVideo } from './read-types.js';
import { stageReporter } from './progress.js';
import { assemble } from './assemble.js';
import { encode, type FrameEncoder } from './encode.js';
import { checkMediaBudget } from './media-budget.js';
import { checkPlanLimits, plannedMedia } from '../limits.js';
import { planVideo, type VideoPlan } from './plan.js';
import { sample, type SampledVideo } from './sample.js';
import { codecPlan, skipFrames, type ReduceReport } from '../reduce/pipeline.js';
import { visualTokens } from './strategy.js';

export type { ReadQuery, ReadVideo } from './read-types.js';

/** A repeat of a video with the same options goes through the memo (media-memo.ts) and decodes only what no cache holds. */
export function readVideo(input: VideoInput, q: ReadQuery): Promise<ReadVideo> {
  return readRemembered(input, q, (identity) => readFresh(input, q, identity));
}

async function readFresh(input: VideoInput, q: ReadQuery, identity: string | undefined): Promise<ReadVideo> {
  const { model, signal } = q;
  throwIfAborted(signal);
  const t0 = performance.now();
  // an audio model also opens files without a picture (the sound alone)
  const source = await openVideo(input, { signal, allowAudioOnly: model.info.audio, ...(q.ffmpegOptions ? { ffmpegOptions: q.ffmpegOptions } : {}) });
  let plan: VideoPlan, video: SampledVideo, decoded: number;
  let reduced: ReduceReport | undefined;
  let encoder: FrameEncoder = q.encoder ?? model;
  try {
    plan = planVideo(source.probe, model.info, q);
    q.check?.(source.probe, plan);
    // frames, audio and subtitle cues counted together before any picture is decoded
    const { budget, subtitles } = await checkMediaBudget(source, plan, model.info, q.countText ?? ((text) => model.handle.countTokens(text)), q.contextSize, signal);
    checkPlanLimits(model.limits, plannedMedia(budget, source.probe.video, model.info.imageSize));
    // reduce (lib/reduce): frame times from the codec's change, then the still frames dropped before the encoder
    const byCodec = await codecPlan(source, plan.sample, plan.count, q.reduce, plan.byCount && !plan.audioOnly, signal);
    if (byCodec) plan = { ...plan, sample: byCodec };
    video = await sample(source, plan, model.info, q.contextSize, { signal, onProgress: stageReporter(q.onProgress, 'decode'), subtitles });
    // reduce: the still frames dropped; a picture that came back reuses its first embedding (the skip's encoder)
    const skipped = skipFrames(video.frames, q.reduce, byCodec !== null, encoder);
    if (skipped.report) { video = { ...video, frames: skipped.frames }; reduced = skipped.report; encoder = skipped.encoder; }
  } finally {
    decoded = source.stats.framesDecoded;
    await source.close();
  }
  const decodeMs = performance.now() - t0;
  const encoded = await encode(encoder, plan, video, {
    source: identity, batchSize: q.encodeBatchSize, signal, onProgress: stageReporter(q.onProgress, 'encode'),
  });
  const hasToken = q.hasToken ?? ((tok: string) => model.handle.countTokens(tok) === 1);
  // a fixed reduce budget is a share of what the frames as sampled would have taken
  const full = reduced && plan.path === 'pooled' ? visualTokens(plan.strategy, reduced.sampled, model.info) : 0;
  const assembled = assemble(encoded, plan, video.duration, { ...q, reduceFull: full }, hasToken, video);
  return { plan, video, probe: source.probe, encoded, assembled, isImage: source.probe.isImage, decodeMs, decoded, ...(reduced ? { reduced } : {}) };
}
