/**
 * watch(): answers about a video or live stream, window after window, for as long as it runs.
 *
 * A pump reads frames into a rolling buffer that holds only what the next window can use. A
 * window is answered once a frame at or after its end has arrived: its frames that no earlier
 * window encoded are encoded (each frame once, kept with its frame in the buffer), the window's
 * grids are assembled and asked on the watch's one context, which is rewound after each answer.
 * When answering falls behind a live source, the windows it passed are skipped, not queued. A
 * file read with `realtime: false` is read only as fast as it is answered, so nothing is skipped.
 */
import { windowPairs } from './pairs.js';
import type { FrameGrid } from '../assembly/types.js';
import { assemble, assemblyPlan, type Encoded } from '../pipeline/index.js';
import { CallbackGuard } from '../callbacks.js';
import { VidlmError, abortError, isVidlmError } from '../errors.js';
import type { Context } from '../inference/context.js';
import { litaLocalizeQuestion } from '../prompt/lita.js';
import { parseTimes } from '../time/parse.js';
import type { VideoInput } from '../video/types.js';
import { Debounce } from './debounce.js';
import { Extras } from './extras.js';
import { checkSource, checkWatch, type CheckedWatch } from './options.js';
import { FunctionResponder, ModelResponder, hasTokenOf, type AnswerFn, type Responder } from './respond.js';
import { Schedule } from './schedule.js';
import { MotionGate, runs } from './motion.js';
import { pooledMedia } from './sound.js';
import { openFeed, type Feed, type FeedItem, type WatchFrame } from './source.js';
import type { WatchEvent, WatchItem, WatchOptions, WatchStats, WatchWindow } from './types.js';

/** A yes/no answer, nothing else. */
export const YES_NO_GRAMMAR = 'root ::= "yes" | "no"';
/** Two LITA time tokens (released spelling): the event's start and end inside the window. */
export const LITA_SPAN_GRAMMAR = 'root ::= tok " " tok\ntok ::= "<t" ([0-9] | [1-9] [0-9]) ">"';

export function yesNoQuestion(event: string): string {
  return `Does this happen in the video: "${event.trim()}"? Answer yes or no.`;
}

interface Entry { frame: WatchFrame; grid?: FrameGrid; ref?: Entry; pair?: { with: WatchFrame; grid: FrameGrid } }

const EPS = 1e-6;

/** Hooks for tests and rule-based checks: `answer` replaces the model's generation (frames are still encoded). */
export interface WatchHooks { answer?: AnswerFn }

export class Watch implements AsyncIterable<WatchItem> {
  readonly stats: WatchStats = { windows: 0, skipped: 0, encoded: 0, held: 0, reconnects: 0, streamTime: 0, lagMs: 0, tokensPerSecond: 0 };
  #context: Context | null = null;
  #source: VideoInput;
  #c: CheckedWatch;
  #hooks: WatchHooks;
  #ac = new AbortController();
  #stopped = false;
  #started = false;
  #gen: AsyncGenerator<WatchItem, void, undefined> | null = null;
  #wakers: (() => void)[] = [];

  /** @internal use watch() */
  constructor(source: VideoInput, c: CheckedWatch, hooks: WatchHooks) {
    this.#source = source;
    this.#c = c;
    this.#hooks = hooks;
    const user = c.signal;
    if (user) {
      if (user.aborted) this.#ac.abort(user.reason);
      else user.addEventListener('abort', () => this.#ac.abort(user.reason), { once: true });
    }
    this.#ac.signal.addEventListener('abort', () => this.#wake(), { once: true });
  }

  /** The one context the watch answers on (null before it starts, or with an `answer` hook); disposed when the watch ends. */
  get context(): Context | null { return this.#context; }

  /**
   * Ends the watch cleanly: an answer in progress is cancelled, the iteration ends (done) and
   * the source and the context are freed. Resolves when they are.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (!this.#ac.signal.aborted) this.#ac.abort(new VidlmError('ERR_ABORTED', 'the watch was stopped'));
    // runs the generator's cleanup now if it waits at a yield, or after its current step
    await this.#gen?.return(undefined).catch(() => undefined);
  }

  #wake(): void {
    const w = this.#wakers;
    this.#wakers = [];
    for (const f of w) f();
  }

  #sleep(): Promise<void> {
    return new Promise((r) => { this.#wakers.push(r); });
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchItem> {
    if (this.#started) throw new VidlmError('ERR_INVALID_ARG', 'a watch can be iterated once');
    this.#started = true;
    this.#gen = this.#run();
    return this.#gen;
  }

  async *#run(): AsyncGenerator<WatchItem, void, undefined> {
    const c = this.#c;
    const signal = this.#ac.signal;
    const schedule = new Schedule(c.every, c.window);
    const debounce = new Debounce(c.cooldown);
    const buffer: Entry[] = [];
    const notices: WatchItem[] = [];
    let extras: Extras | null = null;
    let latest = -Infinity;
    let lastWall = 0;
    let ended = false;
    let pumpError: unknown = null;
    let feed: Feed | null = null;
    let responder: Responder | null = null;
    let pump: Promise<void> = Promise.resolve();
    let index = 0;
    const motion = c.reduce ? new MotionGate(c.reduce) : null;
    let lastAnswer: { text: string; answer?: 'yes' | 'no' } | null = null;
    let reconnect: { connection: number; reason?: string; audioSecondsDuringStall?: number; before: number } | null = null;
    let jump: { streamFrom: number; streamTo: number; before: number } | null = null;
    // onToken that throws or rejects ends the watch with ERR_CALLBACK (its cause the callback's error), as ask()'s callbacks do
    const callbacks = new CallbackGuard();
    const onToken = callbacks.wrap('onToken', c.onToken);
    const failed = (): VidlmError | null => (callbacks.signal.aborted ? callbacks.signal.reason as VidlmError : null);
    callbacks.signal.addEventListener('abort', () => this.#ac.abort(callbacks.signal.reason), { once: true });
    try {
      if (signal.aborted) throw abortError(c.signal);
      if (this.#hooks.answer) responder = new FunctionResponder(this.#hooks.answer);
      else {
        // the one context of the whole watch: each window rewinds it
        this.#context = await c.model.createContext({ contextSize: c.contextSize, sequences: 1 });
        responder = new ModelResponder(c.model, this.#context, c.generate, c.system);
      }
      const hasToken = this.#context ? hasTokenOf(this.#context) : () => false;
      feed = await openFeed(this.#source, {
        fps: c.fps, ...(c.fpsRule ? { fpsRule: c.fpsRule } : {}), size: [c.imageSize, c.imageSize], fit: c.fit, keep: c.window + c.every, realtime: c.realtime, live: c.live,
        timeout: c.timeout, retries: c.retries, backoff: c.backoff, maxBackoff: c.maxBackoff, format: c.format, ffmpegOptions: c.ffmpegOptions, signal,
        pictures: c.pictures, ...(c.audio && c.live ? { audioRate: c.model.info.audioSampleRate ?? 16000 } : {}),
      });
      // the sound and subtitles of each window (a second reader of a file; a live stream's sound from live(), its subtitles not read: a warning)
      const liveAudio = feed.audio?.bind(feed);
      extras = await Extras.open(this.#source, {
        audio: c.audio, subtitles: c.subtitles, live: feed.isLive, rate: c.model.info.audioSampleRate ?? 16000, format: c.format, ffmpegOptions: c.ffmpegOptions, signal,
        ...(liveAudio ? { liveAudio } : {}),
      });
      for (const message of extras.warnings) notices.push({ type: 'warning', message });
      const pull = !feed.isLive && !c.realtime;
      const f = feed;
      pump = (async () => {
        try {
          while (!signal.aborted) {
            // a recording read for analysis goes no further than the next window needs
            while (pull && latest >= schedule.nextEnd - EPS && !signal.aborted) await this.#sleep();
            if (signal.aborted) break;
            const item: FeedItem | null = await f.next();
            if (!item) { ended = true; break; }
            if (item.kind === 'reconnect') {
              this.stats.reconnects++;
              reconnect = { connection: item.connection, reason: item.reason, audioSecondsDuringStall: item.audioSecondsDuringStall, before: latest };
            } else if (item.kind === 'discontinuity') {
              jump = { streamFrom: item.streamFrom, streamTo: item.streamTo, before: latest };
            } else {
              const fr = item.frame;
              if (jump) {
                notices.push({ type: 'discontinuity', at: fr.t, gap: fr.t - jump.before, streamFrom: jump.streamFrom, streamTo: jump.streamTo });
                jump = null;
              }
              if (reconnect) {
                notices.push({ type: 'reconnect', connection: reconnect.connection, at: fr.t, gap: fr.t - reconnect.before, ...(reconnect.reason ? { reason: reconnect.reason } : {}), ...(reconnect.audioSecondsDuringStall !== undefined ? { audioSecondsDuringStall: reconnect.audioSecondsDuringStall } : {}) });
                reconnect = null;
              }
              buffer.push({ frame: fr });
              latest = fr.t;
              lastWall = fr.wallTime;
              this.stats.streamTime = fr.t;
              // frames older than any window still to be answered can go
              const keepFrom = Math.max(schedule.start(schedule.nextEnd), latest - c.every - c.window) - EPS;
              let drop = 0;
              while (drop < buffer.length && buffer[drop]!.frame.t < keepFrom) drop++;
              if (drop > 0) buffer.splice(0, drop);
              this.stats.held = buffer.length;
            }
            this.#wake();
          }
        } catch (e) {
          if (!signal.aborted) pumpError = e;
        } finally {
          ended = true;
          this.#wake();
        }
      })();

      for (;;) {
        while (notices.length > 0) yield notices.shift()!;
        if (signal.aborted) break;
        if (pumpError) throw pumpError;
        let due = schedule.due(latest);
        // the end of a file: its last frames make one more window
        if (!due && ended && buffer.some((e) => e.frame.t >= schedule.nextEnd - c.every - EPS)) due = schedule.due(schedule.nextEnd);
        if (!due) {
          if (ended) break;
          await this.#sleep();
          continue;
        }
        this.stats.skipped += due.skipped;
        const end = due.end;
        const start = schedule.start(end);
        const entries = buffer.filter((e) => e.frame.t >= start - EPS && e.frame.t < end - EPS);
        this.#wake(); // the schedule moved: a paused pump may read on
        if (entries.length === 0) { this.stats.skipped++; continue; }
        const readyWall = buffer.find((e) => e.frame.t >= end - EPS)?.frame.wallTime ?? lastWall;
        const began = Date.now();

        // the pictures (a watch that only hears has ticks: times without pixels)
        // reduce: a run of repeated pictures is its first frame's time with the kept frame's picture (lib/watch/motion.ts)
        const judged = motion?.judge(entries.filter((e) => e.frame.rgb.length > 0));
        const shown = motion ? runs(entries.filter((e) => e.frame.rgb.length > 0)).map((r) => ({ ...r.ref, frame: { ...r.ref.frame, t: r.first.frame.t, streamTime: r.first.frame.streamTime, wallTime: r.first.frame.wallTime } })) : entries.filter((e) => e.frame.rgb.length > 0);
        // a frame's time in the window: a frame up to EPS before a start that is a sum of floats (0.1 + 0.2…) is in it, at 0, not at -5e-17
        const inWindow = (t: number): number => Math.max(0, t - start);
        const rel = shown.map((e) => inWindow(e.frame.t));
        const first = entries[0]!.frame;
        // a file's sound is read on its own timeline (its time of watch time 0); a live stream's is on the watch timeline
        const origin = feed.isLive ? 0 : first.streamTime - first.t;
        const extra = await extras.window(origin + start, origin + end, shown.map((e) => (feed!.isLive ? e.frame.t : e.frame.streamTime)), signal);
        const q = { frames: shown.map((e) => e.frame), windowStart: start, windowEnd: end, ...(c.subtitles !== undefined ? { cues: extra.cues } : {}) };
        const todo = c.strategy !== 'native' ? (motion ? [...new Set(shown.map((e) => e.ref!))] : entries).filter((e) => !e.grid) : [];
        if (judged && judged.judged > 0 && judged.changed === 0 && lastAnswer && todo.length === 0) {
          // the motion gate: nothing new since the last answer, which stands
          const frames = entries.map((e) => e.frame);
          yield {
            type: 'window', index: index++, windowStart: start, windowEnd: end,
            streamStart: frames[0]!.streamTime, streamEnd: frames[frames.length - 1]!.streamTime, wallStart: frames[0]!.wallTime, wallEnd: frames[frames.length - 1]!.wallTime,
            text: lastAnswer.text, ...(lastAnswer.answer ? { answer: lastAnswer.answer } : {}),
            frames: shown.length, encoded: 0, frameTimes: shown.map((e) => e.frame.t),
            latencyMs: Date.now() - began, lagMs: Math.max(0, Date.now() - readyWall), skipped: this.stats.skipped,
            tokens: { prompt: 0, generated: 0 }, tokensPerSecond: 0, motion: { judged: judged.judged, changed: 0, gated: true },
          };
          this.stats.windows++;
          continue;
        }
        // the pipeline's encode stage, given what it lacks here: frames a live source decoded, grids earlier windows encoded
        let encoded: Encoded;
        let pairsEncoded = 0;
        if (c.modelTime) {
          // the Qwen-VL family's own time: frame pairs, each encoded once across windows (lib/watch/pairs.ts)
          const r = await windowPairs(c.model, shown, signal);
          pairsEncoded = r.encoded;
          this.stats.encoded += r.encoded;
          encoded = { kind: 'grids', grids: r.grids.map((g) => ({ ...g, t: inWindow(g.t) })), ms: 0 };
        } else if (c.strategy !== 'native') {
          if (todo.length > 0) {
            const { grids } = await c.model.encodeWithStats(todo.map((e) => e.frame), { cache: false, signal });
            todo.forEach((e, i) => { e.grid = grids[i]!; });
            this.stats.encoded += todo.length;
          }
          encoded = { kind: 'grids', grids: (motion ? shown.map((e) => ({ ...e, grid: e.ref!.grid })) : entries).map((e) => ({ ...e.grid!, t: inWindow(e.frame.t) })), ms: 0 };
        } else {
          encoded = { kind: 'native', frames: shown.map((e) => ({ ...e.frame, t: inWindow(e.frame.t) })) };
        }
        // the pipeline's assemble stage on the window's own timeline: sound and cues placed as ask() places them
        const video = assemble(encoded, { ...assemblyPlan(c.strategy, c.model.info, [0, end - start]), ...(c.modelTime ? { modelTime: c.modelTime } : {}) }, end - start,
          { timeTokens: c.timeTokens, preamble: false, reduce: c.reduce }, hasToken, { cues: extra.cues, ...(extra.audio ? { audio: extra.audio } : {}), frames: rel.map((t) => ({ t })) });
        if (video.kind === 'native' && video.frames.length === 0) { this.stats.skipped++; continue; } // nothing to see or hear in this window
        const media = video.kind === 'native' ? video.frames.map((it) => ('audio' in it ? { kind: 'audio' as const, samples: it.audio } : { kind: 'frame' as const, t: it.t }))
          : extra.audio ? pooledMedia(extra.audio, rel) : undefined;
        const session = await responder.open(video, { ...q, ...(media ? { media } : {}), ...(video.kind === 'items' ? { transcript: video.transcript } : media ? {} : { transcript: '' }) }, signal);
        const frames = entries.map((e) => e.frame);
        let text: string, prompt = 0, generated = 0, tps = 0;
        let event: WatchEvent | null = null;
        let answer: 'yes' | 'no' | undefined;
        const times = {
          windowStart: start, windowEnd: end,
          streamStart: frames[0]!.streamTime, streamEnd: frames[frames.length - 1]!.streamTime,
          wallStart: frames[0]!.wallTime, wallEnd: frames[frames.length - 1]!.wallTime,
        };
        try {
          const question = c.when ? yesNoQuestion(c.when) : c.prompt;
          const r = await session.ask('answer', question, c.when ? { grammar: YES_NO_GRAMMAR, maxTokens: 2 } : {}, signal, onToken);
          const callbackError = failed(); // the answer may have ended before the abort the callback caused reached it
          if (callbackError) throw callbackError;
          ({ text, prompt, generated } = r);
          tps = r.tokensPerSecond;
          if (c.when) {
            answer = /^\s*yes/i.test(text) ? 'yes' : 'no';
            if (debounce.push(answer === 'yes')) {
              event = { type: 'event', ...times, start, end, window: index, localized: false };
              if (c.localize) {
                const span = await session.ask('localize', litaLocalizeQuestion(c.when), { grammar: LITA_SPAN_GRAMMAR, maxTokens: 12 }, signal);
                const s = parseTimes(span.text, { duration: end - start, mode: 'lita' })[0];
                if (s) {
                  const a = Math.min(start + s.start, end), b = Math.min(start + s.end, end);
                  event = { ...event, start: Math.min(a, b), end: Math.max(a, b), localized: true };
                }
              }
            }
          }
        } finally {
          await session.close();
        }
        const done = Date.now();
        const window: WatchWindow = {
          type: 'window', index: index++, ...times, text, ...(answer ? { answer } : {}),
          frames: shown.length, encoded: c.modelTime ? pairsEncoded : todo.length, frameTimes: shown.map((e) => e.frame.t),
          latencyMs: done - began, lagMs: Math.max(0, done - readyWall), skipped: this.stats.skipped,
          tokens: { prompt, generated }, tokensPerSecond: tps,
          ...(c.audio ? { audioChunks: extra.audio?.chunks.length ?? 0 } : {}),
          ...(extra.heard !== undefined ? { audioSeconds: extra.heard, ...(entries.some((e) => e.frame.audioStalled) ? { audioStalled: true as const } : {}) } : {}),
          ...(c.subtitles !== undefined ? { cues: extra.cues.length } : {}),
          ...(judged ? { motion: { judged: judged.judged, changed: judged.changed, gated: false } } : {}),
        };
        lastAnswer = { text, ...(answer ? { answer } : {}) };
        this.stats.windows++;
        this.stats.lagMs = window.lagMs;
        this.stats.tokensPerSecond = tps;
        yield window;
        if (event) yield event;
      }
      if (signal.aborted && !this.#stopped) throw failed() ?? abortError(c.signal);
    } catch (e) {
      const callbackError = failed();
      if (callbackError) throw callbackError;
      if (this.#stopped && isVidlmError(e, 'ERR_ABORTED')) return;
      if (signal.aborted && !this.#stopped && !isVidlmError(e, 'ERR_ABORTED')) throw abortError(c.signal);
      throw e;
    } finally {
      if (!signal.aborted) this.#ac.abort(new VidlmError('ERR_ABORTED', 'the watch ended'));
      this.#wake();
      await feed?.close().catch(() => undefined);
      await extras?.close();
      await pump;
      buffer.length = 0;
      await responder?.dispose();
    }
  }
}

/**
 * Answers `prompt` (or watches for `when`) every `every` seconds about the last `window` seconds
 * of a video file or live stream. Iterate the result; see docs/watch.md.
 */
export function watch(source: VideoInput, options: WatchOptions): Watch {
  return watchWith(source, options, {});
}

/** @internal watch() with hooks (tests): `answer` replaces the model's generation. */
export function watchWith(source: VideoInput, options: WatchOptions, hooks: WatchHooks): Watch {
  checkSource(source);
  const c = checkWatch(source, options);
  return new Watch(source, c, hooks);
}
