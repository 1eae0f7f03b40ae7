/** One audio clip for libmtmd's audio encoder: mono PCM at the encoder's sample rate. */
export interface MediaAudio {
  audio: Float32Array;
  /**
   * Evaluate only the first `tokens` embeddings libmtmd makes of the clip (real-length audio: the
   * embeddings of its real samples, not of the 30 s of silence libmtmd's Whisper preprocessing
   * adds; see audioLength). Default: all of them.
   */
  tokens?: number;
}
