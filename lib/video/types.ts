/** Public value types of lib/video. */

/** A file path, a URL FFmpeg understands (rtsp, http(s), udp, tcp, rtmp, srt, file) or the bytes of a file. */
export type VideoInput = string | URL | Uint8Array;

export interface OpenOptions {
  /** Seconds to wait for a network source to open or to deliver data (default 10). */
  timeout?: number;
  /** Force the input format (FFmpeg demuxer name), e.g. 'v4l2' for /dev/video0. */
  format?: string;
  /** Extra FFmpeg demuxer / protocol options (AVDictionary entries), e.g. { rtsp_transport: 'tcp' }. */
  ffmpegOptions?: Record<string, string | number>;
  /** Open files that have audio but no video (probe().video is then null). Default false: ERR_VIDEO_NO_STREAM. */
  allowAudioOnly?: boolean;
  /**
   * Decoder threads; 0: FFmpeg's automatic choice (cores + 1). Default: the free threads of the
   * process's compute budget when the first walk starts (lib/threads; docs/deploy.md), each
   * decoding call holding a lease of it.
   */
  threads?: number;
  /**
   * Largest picture (width × height) to decode (default 8192 × 8192). A header declaring more is
   * refused with ERR_VIDEO_TOO_LARGE before anything is allocated for it.
   */
  maxPixels?: number;
  signal?: AbortSignal;
}

export interface VideoStreamInfo {
  streamIndex: number;
  codec: string;
  profile?: string;
  pixelFormat: string;
  bitDepth: number;
  /** Stored (coded) picture size. */
  width: number;
  height: number;
  /** Size of the picture as displayed: rotation and pixel aspect applied. */
  displayWidth: number;
  displayHeight: number;
  /** Display rotation in degrees counter-clockwise (0, 90, 180, 270), as ffprobe reports it. */
  rotation: number;
  /** Horizontal flip in the display matrix (rare; mirrored front-camera clips). */
  flipped: boolean;
  /** Sample (pixel) aspect ratio [num, den]. */
  pixelAspect: [number, number];
  /** Average frame rate (frames / duration): FFmpeg's avg_frame_rate. */
  avgFps: number;
  /** Real base frame rate guessed from the timestamps: FFmpeg's r_frame_rate. */
  realFps: number;
  /** Frame count when the container states it or a scan counted it; null when unknown. */
  frameCount: number | null;
  /** True when frame timestamps are not evenly spaced. */
  vfr: boolean;
  /** Seconds, relative to the source's start (probe.startTime). */
  startTime: number;
  duration: number;
  timeBase: [number, number];
}

export interface AudioStreamInfo {
  streamIndex: number;
  codec: string;
  sampleRate: number;
  channels: number;
  channelLayout: string;
  sampleFormat: string;
  startTime: number;
  duration: number;
}

export interface SubtitleStreamInfo {
  streamIndex: number;
  /** FFmpeg's codec name: mov_text, subrip, webvtt, ass, text (image subtitles are listed but not read). */
  codec: string;
  /** The container's language tag (ISO 639-2 such as 'eng'), or null. */
  language: string | null;
  title: string | null;
  isDefault: boolean;
}

/** One subtitle cue on the source's timeline (seconds relative to probe.startTime). */
export interface SubtitleCue {
  start: number;
  /** null: shown until the next cue. */
  end: number | null;
  text: string;
}

export interface SubtitleTrack {
  /** The stream read, or null for an external file. */
  streamIndex: number | null;
  /** What the cues came from: the source with '#stream' or the external file. */
  source: string;
  codec: string;
  language: string | null;
  cues: SubtitleCue[];
  /** Packets the decoder rejected (their cues are missing). */
  errors: number;
}

export interface SubtitleOptions {
  /** A stream index, or a language tag (ISO 639-1 or -2, matched case-insensitively by prefix). Default: the default track, else the first. */
  track?: number | string;
  signal?: AbortSignal;
}

export interface VideoProbe {
  /** What was opened (path, URL or '<buffer N bytes>'). */
  source: string;
  /** Container (FFmpeg demuxer) name. */
  format: string;
  /** Seconds; 0 for still images and unknown durations of live sources. */
  duration: number;
  /** Container start time in seconds; every `t` vidlm reports is relative to it. */
  startTime: number;
  bitRate: number | null;
  isImage: boolean;
  isLive: boolean;
  video: VideoStreamInfo | null;
  audio: AudioStreamInfo | null;
  /** Subtitle tracks, in stream order. */
  subtitles: SubtitleStreamInfo[];
}

export type FitMode = 'stretch' | 'pad' | 'crop';

export interface FrameOptions {
  /** Output size: [width, height], 'WxH' or a number for a square. Default: display size. */
  size?: [number, number] | string | number;
  /** How the picture fits the size (default 'stretch'). */
  fit?: FitMode;
  /** Pad colour for fit 'pad' as [r, g, b] (default black; LLaVA's expand2square uses the image mean [122, 116, 104]). */
  padColor?: [number, number, number];
  /** swscale algorithm (default 'bicubic', FFmpeg's default). */
  scaler?: 'bicubic' | 'bilinear' | 'area' | 'lanczos' | 'neighbor' | 'fast_bilinear' | 'spline';
}

export type UniformRule = 'linspace' | 'middle' | 'round' | 'vcgpt' | 'start';
export type FpsRule = 'time' | 'step' | 'ffmpeg';

interface PlanBase {
  /** Restrict the plan to [start, end] seconds. */
  segment?: [number, number];
}
/** N frames by a method's index rule over the frame indices (default rule 'linspace'). */
export interface UniformPlan extends PlanBase { uniform: number; rule?: UniformRule }
/** F frames per second (default rule 'time': targets start + k/F). */
export interface FpsPlan extends PlanBase { fps: number; rule?: FpsRule; max?: number }
/** LITA: T frames, round(linspace(0, n-1, T)) (default T = 100). */
export interface LitaPlan extends PlanBase { lita: number }
/** The frames at (first at or after) the given times in seconds. */
export interface TimesPlan extends PlanBase { times: number[] }
/** Every frame of the segment. */
export interface AllPlan extends PlanBase { all: true }
export type SamplePlan = UniformPlan | FpsPlan | LitaPlan | TimesPlan | AllPlan;

export interface SampleOptions extends FrameOptions {
  /** 'auto' (default) picks seeking or sequential decoding per target by estimated cost. */
  strategy?: 'auto' | 'seek' | 'sequential';
  signal?: AbortSignal;
}

/** One decoded frame as RGB24, tightly packed (width * 3 bytes per row). */
export interface VideoFrame {
  /** Index of the frame in the video (0-based, presentation order). */
  index: number;
  /** Presentation time in seconds of the frame actually decoded (relative to probe.startTime). */
  t: number;
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** The frames of a plan, in plan order, plus what happened. */
export type SampledFrames = VideoFrame[] & {
  /** Set when the plan was clamped (more frames asked than exist, times past the end). */
  warning?: string;
  /** The time each frame was asked for (seconds), in the same order. */
  targets: number[];
};

export interface AudioOptions {
  /** Output sample rate (default 16000). */
  sampleRate?: number;
  /** Output channels, 1 or 2 (default 1: down-mixed). */
  channels?: 1 | 2;
  /** [start, end] seconds (default: the whole file). */
  segment?: [number, number];
  /** Also cut the PCM into windows of this many seconds (video-SALMONN: 0.5). */
  window?: number;
  /** Window start times (seconds); default segment start + k * window. Pass frame times to align. */
  windowStarts?: number[];
  signal?: AbortSignal;
}

export interface AudioWindow {
  index: number;
  /** Start time in seconds. */
  t: number;
  /** Interleaved Float32 PCM, exactly window * sampleRate frames (zero-padded at the end). */
  samples: Float32Array;
}

export interface AudioClip {
  /** Start time in seconds of samples[0]. */
  t: number;
  sampleRate: number;
  channels: number;
  /** Interleaved Float32 PCM in [-1, 1]; silence where the track has no data. */
  samples: Float32Array;
  /** Seconds covered (samples.length / channels / sampleRate). */
  duration: number;
  windows?: AudioWindow[];
}

export interface LiveOptions extends FrameOptions, Omit<OpenOptions, 'allowAudioOnly'> {
  /** Frames per second to keep (default 1). */
  fps?: number;
  /** Seconds of frames kept in the rolling window (default 30). */
  window?: number;
  /** Reconnect attempts after a failure or stall before giving up (default Infinity). */
  retries?: number;
  /** First reconnect delay in seconds (default 0.5); doubles up to maxBackoff. */
  backoff?: number;
  maxBackoff?: number;
  /** Seconds the stream's clock may run ahead of the wall clock between two frames before it counts as a discontinuity (default 5); any step back does. */
  maxJump?: number;
  /** Also read the stream's sound (its default audio track), mono at `audioSampleRate`: LiveStream.audio(). Default false. */
  audio?: boolean;
  /** Sample rate of the sound read with `audio` (default 16000, the Whisper encoders'). */
  audioSampleRate?: number;
}

export interface LiveFrame extends VideoFrame {
  /** Date.now() when the frame was decoded. */
  wallTime: number;
  /** The stream's own timestamp in seconds (resets on reconnect for most sources). */
  streamTime: number;
  /** Connection number (0 = first, 1 after the first reconnect…). */
  connection: number;
  /** Set on the first frame after a timestamp discontinuity: the stream times before and after it (`t` goes on with the wall clock). */
  discontinuity?: { streamFrom: number; streamTo: number };
  /** With `audio`: set while the stream's sound has stalled (nothing for `timeout` seconds) and its pictures go on. */
  audioStalled?: true;
}
