#pragma once
// Process-wide counts of what the vision encoder really encoded, read by tests and benchmarks
// (encoderCounters()) so that "frames encoded" is checked at the encoder, not taken from the
// surface that reports it (issue 30). Relaxed atomics: counts, not synchronisation.
#include <napi.h>

#include <cstddef>
#include <cstdint>

#include "mtmd.h"

namespace vidlm {
// images (frames) that came out of an encoder graph: Model.encode()'s frames and the image
// chunks prefillMedia() encodes (one per image chunk; a merged frame pair is one chunk)
void CountImagesEncoded(uint64_t images);
// the image chunks of chunks[from, to) (up to the first text chunk) that an encoded batch holds
uint64_t CountImageChunks(mtmd_batch * batch, const mtmd_input_chunks * chunks, size_t from, size_t to);
// encoderCounters() -> { framesEncoded, graphs }
Napi::Value EncoderCounters(const Napi::CallbackInfo & info);
}  // namespace vidlm
