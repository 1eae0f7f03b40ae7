// Model.encode(): runs the mmproj's vision encoder + projector on RGB frames, several frames per
// graph where libmtmd can batch them (mtmd_batch), and returns each frame's projected tokens.
// With `pairs` (models whose tower merges two frames into one temporal step: the Qwen-VL family),
// frames 2k and 2k+1 go to libmtmd as two mergeable bitmaps of one prompt, as prefillMedia passes a
// video's frames, so they become one image chunk: one output per pair. An odd last frame goes alone,
// as libmtmd tokenizes it in prefillMedia (its tower repeats a lone frame over the temporal patch).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "abort_token.h"
#include "busy.h"
#include "encode.h"
#include "encoder_counters.h"
#include "errors.h"
#include "grid.h"
#include "log.h"
#include "progress.h"
#include "worker.h"

namespace vidlm {

namespace {

// libmtmd's own owning pointers (mtmd.h)
using ChunksPtr = mtmd::input_chunks_ptr;
using BatchPtr = mtmd::batch_ptr;
using BitmapPtr = mtmd::bitmap_ptr;

// The bitmap holds libmtmd's one copy of the pixels, made on the JS thread, so the caller may
// reuse its buffer as soon as encode() returns.
struct FrameIn {
  BitmapPtr bitmap;
};

// Tokens go straight from libmtmd's output into `js` (a Float32Array allocated up front for the
// model's fixed token count); models whose count varies with the image use `data` instead.
struct FrameOut {
  int nx = 0, ny = 0, nTokens = 0;
  float * js = nullptr;
  size_t jsLength = 0;
  std::vector<float> data;
};

class EncodeWorker : public PromiseWorker {
 public:
  EncodeWorker(Napi::Env env, std::shared_ptr<ModelState> state, BusyGuard encoder, std::vector<FrameIn> frames, int batchSize,
               bool pairs, AbortFlag abort, const Napi::Value & onProgress)
      : PromiseWorker(env, "vidlm.encode", "ERR_ENCODE", abort),
        state_(std::move(state)), encoder_(std::move(encoder)), frames_(std::move(frames)), batchSize_(batchSize),
        abort_(std::move(abort)), progress_(env, onProgress, "vidlm.encode.progress") {
    const int expected = state_->info.imageTokens;
    const size_t step = pairs ? 2 : 1;
    for (size_t i = 0; i < frames_.size(); i += step) groups_.push_back({i, std::min(step, frames_.size() - i)});
    out_.resize(groups_.size());
    if (expected > 0) {
      const size_t n = static_cast<size_t>(expected) * state_->info.nEmbdInp;
      for (FrameOut & f : out_) {
        Napi::Float32Array a = Napi::Float32Array::New(env, n);
        f.js = a.Data();
        f.jsLength = n;
        outputs_.push_back(Napi::Persistent(a.As<Napi::Object>()));
      }
    }
  }

  void Run() override {
    LogCapture log;
    const auto t0 = std::chrono::steady_clock::now();
    mtmd_context * mctx = state_->mtmd;
    const int dim = state_->info.nEmbdInp;
    const std::string marker = state_->info.mediaMarker;

    // 1. preprocess every frame (or mergeable pair) into one image chunk (resize/normalise happen here)
    const size_t count = groups_.size();
    std::vector<ChunksPtr> chunks(count);
    std::vector<const mtmd_input_chunk *> image(count, nullptr);
    for (size_t i = 0; i < count; i++) {
      if (IsAborted(abort_)) return Fail("ERR_ABORTED", "aborted: encoding was cancelled");
      const auto [first, size] = groups_[i];
      chunks[i].reset(mtmd_input_chunks_init());
      std::string markers;
      std::vector<const mtmd_bitmap *> bitmaps;
      for (size_t k = 0; k < size; k++) {
        markers += marker;
        if (size > 1) mtmd_bitmap_set_mergeable(frames_[first + k].bitmap.get(), true);
        bitmaps.push_back(frames_[first + k].bitmap.get());
      }
      mtmd_input_text text{markers.c_str(), markers.size(), false, true};
      const int32_t rc = mtmd_tokenize(mctx, chunks[i].get(), &text, bitmaps.data(), bitmaps.size());
      for (size_t k = 0; k < size; k++) frames_[first + k].bitmap.reset();
      if (rc != 0) return Fail("ERR_ENCODE", "libmtmd could not preprocess frame " + std::to_string(first), &log);
      for (size_t c = 0; c < mtmd_input_chunks_size(chunks[i].get()); c++) {
        const mtmd_input_chunk * ch = mtmd_input_chunks_get(chunks[i].get(), c);
        if (mtmd_input_chunk_get_type(ch) != MTMD_INPUT_CHUNK_TYPE_IMAGE) continue;
        if (image[i] && size > 1) return Fail("ERR_UNSUPPORTED", "this model does not merge two frames into one temporal step (pairs need the Qwen-VL family)");
        if (image[i]) return Fail("ERR_UNSUPPORTED", "this model splits one image into several tiles; use the native strategy");
        image[i] = ch;
      }
      if (!image[i]) return Fail("ERR_ENCODE", "libmtmd produced no image tokens for frame " + std::to_string(first));
    }

    // 2. encode in batches of up to batchSize chunks; libmtmd may accept fewer per graph
    size_t i = 0;
    while (i < count) {
      if (IsAborted(abort_)) return Fail("ERR_ABORTED", "aborted: encoding was cancelled");
      ApplyMtmdThreads(mctx, state_->mtmdThreadsSettable, state_->compute.threads.load());
      BatchPtr batch(mtmd_batch_init(mctx));
      size_t n = 0;
      while (i + n < count && static_cast<int>(n) < batchSize_) {
        const int32_t rc = mtmd_batch_add_chunk(batch.get(), image[i + n]);
        if (rc == 0) { n++; continue; }
        if (n == 0) return Fail("ERR_ENCODE", "libmtmd rejected frame " + std::to_string(i), &log);
        break;  // full (2) or not batchable with the others (3): encode what we have
      }
      if (mtmd_batch_encode(batch.get()) != 0) return Fail("ERR_ENCODE", "the vision encoder failed", &log);
      CountImagesEncoded(n);
      for (size_t k = 0; k < n; k++) {
        const mtmd_input_chunk * ch = image[i + k];
        const float * embd = mtmd_batch_get_output_embd(batch.get(), ch);
        if (!embd) return Fail("ERR_ENCODE", "no embeddings for frame " + std::to_string(i + k));
        const mtmd_image_tokens * it = mtmd_input_chunk_get_tokens_image(ch);
        FrameOut & f = out_[i + k];
        f.nTokens = static_cast<int>(mtmd_input_chunk_get_n_tokens(ch));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        f.nx = static_cast<int>(mtmd_image_tokens_get_nx(it));
        f.ny = static_cast<int>(mtmd_image_tokens_get_ny(it));
#pragma GCC diagnostic pop
        const Grid g = VisualGrid(f.nTokens, f.nx, f.ny);  // a row of n from LLaVA projectors: the square grid
        f.nx = g.nx;
        f.ny = g.ny;
        const size_t n = static_cast<size_t>(f.nTokens) * dim;
        if (f.js && n == f.jsLength) std::memcpy(f.js, embd, n * sizeof(float));
        else { f.js = nullptr; f.data.assign(embd, embd + n); }
      }
      batches_++;
      i += n;
      progress_.report(static_cast<float>(i) / count);
    }
    ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }

  void Settled() override { progress_.release(); }
  void Abandon() override { progress_.abandon(); }

  Napi::Value Result(Napi::Env env) override {
    const int dim = state_->info.nEmbdInp;
    Napi::Array frames = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); i++) {
      FrameOut & f = out_[i];
      Napi::Float32Array data;
      if (f.js) {
        data = outputs_[i].Value().As<Napi::Float32Array>();
      } else {
        // V8-owned buffer rather than an external one: Electron's memory cage forbids those.
        data = Napi::Float32Array::New(env, f.data.size());
        std::memcpy(data.Data(), f.data.data(), f.data.size() * sizeof(float));
        std::vector<float>().swap(f.data);
      }
      Napi::Object o = Napi::Object::New(env);
      o.Set("nx", f.nx);
      o.Set("ny", f.ny);
      o.Set("dim", dim);
      o.Set("data", data);
      frames.Set(i, o);
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("frames", frames);
    result.Set("batches", batches_);
    result.Set("ms", ms_);
    return result;
  }

  ~EncodeWorker() override {
    for (auto & r : outputs_) r.Reset();
  }

 private:
  std::shared_ptr<ModelState> state_;
  BusyGuard encoder_;  // the model's mtmd_context
  std::vector<FrameIn> frames_;
  std::vector<std::pair<size_t, size_t>> groups_;  // (first frame, frames) of each encoded chunk
  int batchSize_;
  AbortFlag abort_;
  Progress progress_;
  std::vector<FrameOut> out_;
  std::vector<Napi::ObjectReference> outputs_;  // keeps the preallocated arrays alive
  int batches_ = 0;
  double ms_ = 0;
};

}  // namespace

// model.encode(frames: {width, height, rgb: Uint8Array}[], batchSize, abortToken?, onProgress?, pairs?)
Napi::Value Encode(const Napi::CallbackInfo & info, std::shared_ptr<ModelState> state) {
  Napi::Env env = info.Env();
  if (!state->mtmd || !state->info.vision) Throw(env, "ERR_UNSUPPORTED", "this model has no vision encoder (load it with an mmproj)");
  if (!info[0].IsArray()) Throw(env, "ERR_INVALID_ARG", "frames must be an array");
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<FrameIn> frames(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsObject()) Throw(env, "ERR_INVALID_ARG", "frame " + std::to_string(i) + " is not an object");
    Napi::Object f = v.As<Napi::Object>();
    const int64_t w = f.Get("width").ToNumber().Int64Value(), h = f.Get("height").ToNumber().Int64Value();
    Napi::Value rgb = f.Get("rgb");
    if (w <= 0 || h <= 0 || w > 16384 || h > 16384) Throw(env, "ERR_INVALID_ARG", "frame " + std::to_string(i) + " has invalid size");
    if (!rgb.IsTypedArray() || rgb.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      Throw(env, "ERR_INVALID_ARG", "frame " + std::to_string(i) + ".rgb must be a Uint8Array");
    }
    Napi::Uint8Array bytes = rgb.As<Napi::Uint8Array>();
    if (bytes.ByteLength() != static_cast<size_t>(w * h * 3)) {
      Throw(env, "ERR_INVALID_ARG", "frame " + std::to_string(i) + ".rgb has " + std::to_string(bytes.ByteLength()) +
                                        " bytes, expected width*height*3 = " + std::to_string(w * h * 3));
    }
    frames[i].bitmap.reset(mtmd_bitmap_init(static_cast<uint32_t>(w), static_cast<uint32_t>(h), bytes.Data()));
  }
  const int batchSize = info[1].IsNumber() ? std::max(1, info[1].As<Napi::Number>().Int32Value()) : 16;
  const bool pairs = info.Length() > 4 && info[4].IsBoolean() && info[4].As<Napi::Boolean>().Value();
  BusyGuard encoder = BusyGuard::Claim(env, state, state->encoderBusy, "the model's encoder");
  return (new EncodeWorker(env, state, std::move(encoder), std::move(frames), batchSize, pairs, AbortToken::From(env, info[2]), info[3]))->Start();
}

}  // namespace vidlm
