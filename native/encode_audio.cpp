// model.encodeAudio(pcm, abortToken?): an audio clip's embeddings as libmtmd makes them (its
// Whisper preprocessing, encoder and projector), read out instead of evaluated: every chunk's
// embeddings in order, the padding's included. For measuring what real-length audio keeps
// against the embeddings of a longer clip (docs/methods.md, "Audio"); prefills never use it.
#include <chrono>
#include <cstring>
#include <vector>

#include "abort_token.h"
#include "busy.h"
#include "encode.h"
#include "errors.h"
#include "log.h"
#include "worker.h"

namespace vidlm {

namespace {

class EncodeAudioWorker : public PromiseWorker {
 public:
  EncodeAudioWorker(Napi::Env env, std::shared_ptr<ModelState> state, BusyGuard encoder, std::vector<float> pcm, AbortFlag abort)
      : PromiseWorker(env, "vidlm.encodeAudio", "ERR_ENCODE", abort), state_(std::move(state)), encoder_(std::move(encoder)), pcm_(std::move(pcm)), abort_(std::move(abort)) {}

  void Run() override {
    LogCapture log;
    const auto t0 = std::chrono::steady_clock::now();
    mtmd_context * mctx = state_->mtmd;
    const std::string marker = state_->info.mediaMarker;
    mtmd::bitmap_ptr bitmap(mtmd_bitmap_init_from_audio(pcm_.size(), pcm_.data()));
    mtmd::input_chunks_ptr chunks(mtmd_input_chunks_init());
    mtmd_input_text text{marker.c_str(), marker.size(), false, true};
    const mtmd_bitmap * bitmaps[] = {bitmap.get()};
    if (mtmd_tokenize(mctx, chunks.get(), &text, bitmaps, 1) != 0) return Fail("ERR_ENCODE", "libmtmd could not preprocess the clip", &log);
    dim_ = state_->info.nEmbdInp;
    ApplyMtmdThreads(mctx, state_->mtmdThreadsSettable, state_->compute.threads.load());
    for (size_t i = 0; i < mtmd_input_chunks_size(chunks.get()); i++) {
      const mtmd_input_chunk * ch = mtmd_input_chunks_get(chunks.get(), i);
      if (mtmd_input_chunk_get_type(ch) != MTMD_INPUT_CHUNK_TYPE_AUDIO) continue;
      if (IsAborted(abort_)) return Fail("ERR_ABORTED", "aborted: encoding was cancelled");
      if (mtmd_encode_chunk(mctx, ch) != 0) return Fail("ERR_ENCODE", "the audio encoder failed", &log);
      const float * embd = mtmd_get_output_embd(mctx);
      const size_t n = mtmd_input_chunk_get_n_tokens(ch);
      if (!embd) return Fail("ERR_ENCODE", "no embeddings for the clip");
      data_.insert(data_.end(), embd, embd + n * static_cast<size_t>(dim_));
      chunks_++;
    }
    if (chunks_ == 0) return Fail("ERR_UNSUPPORTED", "libmtmd made no audio chunk of the clip (no audio encoder?)");
    ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Float32Array a = Napi::Float32Array::New(env, data_.size());
    std::memcpy(a.Data(), data_.data(), data_.size() * sizeof(float));
    Napi::Object o = Napi::Object::New(env);
    o.Set("data", a);
    o.Set("tokens", static_cast<double>(data_.size() / std::max(1, dim_)));
    o.Set("dim", dim_);
    o.Set("chunks", chunks_);
    o.Set("ms", ms_);
    return o;
  }

 private:
  std::shared_ptr<ModelState> state_;
  BusyGuard encoder_;
  std::vector<float> pcm_;
  AbortFlag abort_;
  std::vector<float> data_;
  int dim_ = 0, chunks_ = 0;
  double ms_ = 0;
};

}  // namespace

Napi::Value EncodeAudio(const Napi::CallbackInfo & info, std::shared_ptr<ModelState> state) {
  Napi::Env env = info.Env();
  if (!state->mtmd || !state->info.audio) Throw(env, "ERR_UNSUPPORTED", "this model has no audio encoder (load it with an mmproj that has one)");
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) Throw(env, "ERR_INVALID_ARG", "pcm must be a Float32Array");
  Napi::Float32Array a = info[0].As<Napi::Float32Array>();
  if (a.ElementLength() == 0) Throw(env, "ERR_INVALID_ARG", "pcm is empty");
  std::vector<float> pcm(a.Data(), a.Data() + a.ElementLength());
  BusyGuard encoder = BusyGuard::Claim(env, state, state->encoderBusy, "the model's encoder");
  return (new EncodeAudioWorker(env, state, std::move(encoder), std::move(pcm), AbortToken::From(env, info[1])))->Start();
}

}  // namespace vidlm
