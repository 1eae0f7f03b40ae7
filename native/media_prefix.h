// Evaluating the first `keep` embeddings of an encoded audio chunk (real-length audio).
#pragma once

#include "llama.h"
#include "mtmd.h"

namespace vidlm {

// What mtmd_helper_decode_image_chunk does for an audio chunk, for only its first `keep`
// embeddings: libmtmd's Whisper preprocessing pads every clip with 30 s of silence, and the
// reference processors (Qwen2-Audio, Qwen2.5-Omni) keep only the embeddings of the real samples.
// Positions as libmtmd gives audio (1-D, or M-RoPE with every axis on the same position); the
// chunk's attention as mtmd_decode_use_non_causal says. Returns llama_decode's status (0: ok).
// libmtmd has no public call that evaluates part of a chunk; this would be replaced by one.
int DecodeAudioPrefix(mtmd_context * mctx, llama_context * lctx, const mtmd_input_chunk * chunk, const float * embd, int keep,
                      llama_pos nPast, llama_seq_id seq, int nBatch, llama_pos * newNPast);

}  // namespace vidlm
