/** One audio clip for libmtmd's audio encoder: mono PCM at the encoder's sample rate. */
export interface MediaAudio { audio: Float32Array }
