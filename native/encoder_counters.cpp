#include "encoder_counters.h"

#include <atomic>

namespace vidlm {
namespace {
std::atomic<uint64_t> imagesEncoded{0};
std::atomic<uint64_t> graphsRun{0};
}  // namespace

void CountImagesEncoded(uint64_t images) {
  imagesEncoded.fetch_add(images, std::memory_order_relaxed);
  graphsRun.fetch_add(1, std::memory_order_relaxed);
}

uint64_t CountImageChunks(mtmd_batch * batch, const mtmd_input_chunks * chunks, size_t from, size_t to) {
  uint64_t n = 0;
  for (size_t j = from; j < to; j++) {
    const mtmd_input_chunk * c = mtmd_input_chunks_get(chunks, j);
    const auto type = mtmd_input_chunk_get_type(c);
    if (type == MTMD_INPUT_CHUNK_TYPE_TEXT) break;
    if (type == MTMD_INPUT_CHUNK_TYPE_IMAGE && mtmd_batch_get_output_embd(batch, c)) n++;
  }
  return n;
}

Napi::Value EncoderCounters(const Napi::CallbackInfo & info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("framesEncoded", static_cast<double>(imagesEncoded.load(std::memory_order_relaxed)));
  o.Set("graphs", static_cast<double>(graphsRun.load(std::memory_order_relaxed)));
  return o;
}
}  // namespace vidlm
