// context.prefillMedia(text, frames, seq, mergeable, abortToken?, onProgress?): the model's own
// media path. libmtmd tokenizes the text with its media markers and the frames, encodes the
// media in batches and decodes them with the model's positions (M-RoPE for Qwen2-VL and kin,
// frame pairs merged where the model merges them). This is the path of llama-mtmd-cli.
// An audio clip may ask for only the first `tokens` of its embeddings (real-length audio: the
// embeddings of its real samples, not of libmtmd's 30 s of padding; native/media_prefix.h).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "abort_token.h"
#include "context.h"
#include "encoder_counters.h"
#include "errors.h"
#include "log.h"
#include "media_prefix.h"
#include "mtmd-helper.h"
#include "progress.h"
#include "worker.h"

namespace vidlm {

namespace {

// One chunk libmtmd made: its kind, embeddings (KV cells), positions it takes, first position.
struct ChunkReport { mtmd_input_chunk_type type; int tokens, positions; llama_pos pos; };

// A picture (width × height RGB) or, with width 0, an audio clip (mono PCM at the encoder's rate)
// of which the first `keep` embeddings are evaluated (0: all of them).
struct Frame { uint32_t width, height; std::vector<unsigned char> rgb; std::vector<float> pcm; int keep = 0; };

class PrefillMediaWorker : public PromiseWorker {
 public:
  PrefillMediaWorker(Napi::Env env, std::shared_ptr<ContextState> s, BusyGuard busy, BusyGuard encoder, std::string text,
                     std::vector<Frame> frames, int seq, bool mergeable, AbortFlag abort, const Napi::Value & onProgress)
      : PromiseWorker(env, "vidlm.prefillMedia", "ERR_DECODE", abort), s_(std::move(s)), guard_(std::move(busy)),
        encoder_(std::move(encoder)),
        text_(std::move(text)), frames_(std::move(frames)), seq_(seq), mergeable_(mergeable), abort_(std::move(abort)),
        progress_(env, onProgress, "vidlm.prefillMedia.progress") {}

  void Run() override {
    LogCapture log;
    const auto t0 = std::chrono::steady_clock::now();
    mtmd_context * mctx = s_->model->mtmd;
    std::vector<mtmd::bitmap_ptr> bitmaps;
    std::vector<const mtmd_bitmap *> ptrs;
    std::vector<int> keeps;  // per audio clip: libmtmd makes one audio chunk per 30-s mel chunk, each with the clip's id
    for (Frame & f : frames_) {
      if (f.width == 0) {
        // libmtmd's own audio path: its mel spectrogram, encoder, markers and positions
        bitmaps.emplace_back(mtmd_bitmap_init_from_audio(f.pcm.size(), f.pcm.data()));
        mtmd_bitmap_set_id(bitmaps.back().get(), ("a" + std::to_string(keeps.size())).c_str());
        keeps.push_back(f.keep);
        ptrs.push_back(bitmaps.back().get());
        f.pcm = {};
        continue;
      }
      bitmaps.emplace_back(mtmd_bitmap_init(f.width, f.height, f.rgb.data()));
      if (mergeable_) mtmd_bitmap_set_mergeable(bitmaps.back().get(), true);
      ptrs.push_back(bitmaps.back().get());
      f.rgb = {};
    }
    mtmd::input_chunks_ptr chunks(mtmd_input_chunks_init());
    mtmd_input_text text{text_.c_str(), text_.size(), s_->nPast[seq_] == 0, true};
    if (mtmd_tokenize(mctx, chunks.get(), &text, ptrs.data(), ptrs.size()) != 0) return Fail("ERR_TOKENIZE", "libmtmd could not tokenize the prompt with its media", &log);
    const size_t n = mtmd_input_chunks_size(chunks.get());
    // Each embedding takes a KV cell; with M-RoPE an image takes fewer positions than cells.
    size_t positions = 0, cells = 0;
    // embeddings to evaluate of each chunk (-1: all): a clip kept short spends its count over its
    // mel chunks in order, and the chunks past it are not evaluated at all
    std::vector<int> keep(n, -1);
    std::vector<int> left(keeps);
    for (size_t i = 0; i < n; i++) {
      const mtmd_input_chunk * c = mtmd_input_chunks_get(chunks.get(), i);
      int tokens = static_cast<int>(mtmd_input_chunk_get_n_tokens(c)), pos = static_cast<int>(mtmd_input_chunk_get_n_pos(c));
      const char * id = mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_AUDIO ? mtmd_input_chunk_get_id(c) : nullptr;
      const size_t clip = id && id[0] == 'a' ? std::strtoul(id + 1, nullptr, 10) : left.size();
      if (clip < left.size() && left[clip] > 0) {
        keep[i] = tokens = pos = std::min(tokens, left[clip]);  // audio: one position per embedding
        left[clip] -= tokens;
        if (left[clip] == 0) left[clip] = -1;  // spent: later chunks of this clip get none
      } else if (clip < left.size() && left[clip] < 0) {
        keep[i] = tokens = pos = 0;
      }
      report_.push_back({mtmd_input_chunk_get_type(c), tokens, pos, 0});
      positions += pos;
      cells += tokens;
    }
    const size_t total = std::max(positions, cells);
    if (s_->nPast[seq_] + static_cast<long long>(total) > s_->nCtx) {
      Fail("ERR_CONTEXT_FULL", "the prompt needs " + std::to_string(total) + " cells but only " +
                                   std::to_string(s_->nCtx - s_->nPast[seq_]) + " are free", &log);
      Detail("needed", static_cast<double>(total));
      Detail("free", s_->nCtx - s_->nPast[seq_]);
      Detail("contextSize", s_->nCtx);
      Detail("sequence", seq_);
      return;
    }
    mtmd::batch_ptr mbatch;
    const int startPast = s_->nPast[seq_];
    s_->logitsSeq = -1;
    for (size_t i = 0; i < n; i++) {
      if (IsAborted(abort_)) return Fail("ERR_ABORTED", "aborted: prefill was cancelled");
      const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks.get(), i);
      llama_pos next = s_->nPast[seq_];
      s_->llamaCompute.Apply(s_->ctx, s_->compute);
      ApplyMtmdThreads(mctx, s_->model->mtmdThreadsSettable, s_->model->compute.threads.load());
      report_[i].pos = s_->nPast[seq_];
      int rc;
      if (keep[i] == 0) {
        rc = 0;  // a mel chunk of padding past the clip's real samples: not encoded, not evaluated
      } else if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
        rc = mtmd_helper_eval_chunk_single(mctx, s_->ctx, chunk, s_->nPast[seq_], seq_, s_->nBatch, i == n - 1, &next);
      } else {
        // encode as many consecutive media chunks as libmtmd batches together, as llama-mtmd-cli does
        float * embd = mbatch ? mtmd_batch_get_output_embd(mbatch.get(), chunk) : nullptr;
        if (!embd) {
          mbatch.reset(mtmd_batch_init(mctx));
          if (mtmd_batch_add_chunk(mbatch.get(), chunk) != 0) return Fail("ERR_ENCODE", "libmtmd rejected a media chunk", &log);
          for (size_t j = i + 1; j < n; j++) {
            const mtmd_input_chunk * next_chunk = mtmd_input_chunks_get(chunks.get(), j);
            if (mtmd_input_chunk_get_type(next_chunk) == MTMD_INPUT_CHUNK_TYPE_TEXT) break;
            if (keep[j] == 0) continue;  // never evaluated: not encoded either
            if (mtmd_batch_add_chunk(mbatch.get(), next_chunk) != 0) break;
          }
          if (mtmd_batch_encode(mbatch.get()) != 0) return Fail("ERR_ENCODE", "the media encoder failed", &log);
          CountImagesEncoded(CountImageChunks(mbatch.get(), chunks.get(), i, n));
          embd = mtmd_batch_get_output_embd(mbatch.get(), chunk);
          if (!embd) return Fail("ERR_ENCODE", "no embeddings for a media chunk", &log);
        }
        rc = keep[i] > 0 && keep[i] < static_cast<int>(mtmd_input_chunk_get_n_tokens(chunk)) ? DecodeAudioPrefix(mctx, s_->ctx, chunk, embd, keep[i], s_->nPast[seq_], seq_, s_->nBatch, &next)
                         : mtmd_helper_decode_image_chunk(mctx, s_->ctx, chunk, embd, s_->nPast[seq_], seq_, s_->nBatch, &next, nullptr, nullptr);
      }
      // no free KV cell although the check above passed (cells of earlier media are not in nPast): nothing of it kept
      if (rc == 1) return Fail(KvCellsFull(*s_, seq_, startPast, static_cast<int>(total)));
      if (rc != 0) return Fail("ERR_DECODE", "evaluating chunk " + std::to_string(i) + " failed", &log);
      s_->nPast[seq_] = next;
      progress_.report(static_cast<float>(i + 1) / n);
    }
    evaluated_ = s_->nPast[seq_] - startPast;
    s_->logitsSeq = seq_;
    ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = PrefillSummary(env, evaluated_, s_->nPast[seq_], ms_);
    int mediaTokens = 0;  // embeddings the media became (M-RoPE: more than their positions)
    for (const ChunkReport & r : report_) if (r.type != MTMD_INPUT_CHUNK_TYPE_TEXT) mediaTokens += r.tokens;
    o.Set("mediaTokens", mediaTokens);
    // what was evaluated, chunk by chunk, in order: the test of a media layout (frames and audio in time order)
    Napi::Array chunks = Napi::Array::New(env, report_.size());
    for (size_t i = 0; i < report_.size(); i++) {
      const ChunkReport & r = report_[i];
      Napi::Object c = Napi::Object::New(env);
      c.Set("type", r.type == MTMD_INPUT_CHUNK_TYPE_TEXT ? "text" : r.type == MTMD_INPUT_CHUNK_TYPE_AUDIO ? "audio" : "image");
      c.Set("tokens", r.tokens);
      c.Set("positions", r.positions);
      c.Set("pos", r.pos);
      chunks.Set(static_cast<uint32_t>(i), c);
    }
    o.Set("chunks", chunks);
    return o;
  }
  void Settled() override { progress_.release(); }
  void Abandon() override { progress_.abandon(); }

 private:
  std::vector<ChunkReport> report_;
  std::shared_ptr<ContextState> s_;
  BusyGuard guard_;
  BusyGuard encoder_;  // the model's mtmd_context
  std::string text_;
  std::vector<Frame> frames_;
  int seq_;
  bool mergeable_;
  AbortFlag abort_;
  Progress progress_;
  int evaluated_ = 0;
  double ms_ = 0;
};

}  // namespace

Napi::Value StartPrefillMedia(const Napi::CallbackInfo & info, std::shared_ptr<ContextState> s, BusyGuard busy) {
  Napi::Env env = info.Env();
  if (!s->model->mtmd) Throw(env, "ERR_UNSUPPORTED", "the model was loaded without an mmproj");
  if (!info[0].IsString()) Throw(env, "ERR_INVALID_ARG", "text must be a string");
  if (!info[1].IsArray()) Throw(env, "ERR_INVALID_ARG", "frames must be an array");
  const int seq = SeqArg(env, info[2], *s);
  Napi::Array arr = info[1].As<Napi::Array>();
  std::vector<Frame> frames(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    if (!arr.Get(i).IsObject()) Throw(env, "ERR_INVALID_ARG", "frame " + std::to_string(i) + " is not an object");
    Napi::Object f = arr.Get(i).As<Napi::Object>();
    if (f.Has("audio")) {
      Napi::Value pcm = f.Get("audio");
      if (!pcm.IsTypedArray() || pcm.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array || pcm.As<Napi::Float32Array>().ElementLength() == 0)
        Throw(env, "ERR_INVALID_ARG", "media " + std::to_string(i) + ": audio must be a non-empty Float32Array (mono PCM at the encoder's rate)");
      if (!mtmd_support_audio(s->model->mtmd)) Throw(env, "ERR_UNSUPPORTED", "the model's mmproj has no audio encoder");
      Napi::Float32Array a = pcm.As<Napi::Float32Array>();
      int keep = 0;
      if (f.Has("tokens") && !f.Get("tokens").IsUndefined()) {
        const double k = f.Get("tokens").ToNumber().DoubleValue();
        if (!(k >= 1 && k <= 1e7 && k == static_cast<double>(static_cast<int>(k))))
          Throw(env, "ERR_INVALID_ARG", "media " + std::to_string(i) + ": tokens must be a positive integer (the embeddings of the clip to evaluate)");
        keep = static_cast<int>(k);
      }
      frames[i] = {0, 0, {}, std::vector<float>(a.Data(), a.Data() + a.ElementLength()), keep};
      continue;
    }
    const int64_t w = f.Get("width").ToNumber().Int64Value(), h = f.Get("height").ToNumber().Int64Value();
    Napi::Value rgb = f.Get("rgb");
    if (w <= 0 || h <= 0 || w > 16384 || h > 16384 || !rgb.IsTypedArray() ||
        rgb.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || rgb.As<Napi::Uint8Array>().ByteLength() != static_cast<size_t>(w * h * 3)) {
      Throw(env, "ERR_INVALID_ARG", "frame " + std::to_string(i) + " must be { width, height, rgb: Uint8Array of width*height*3 bytes }");
    }
    Napi::Uint8Array bytes = rgb.As<Napi::Uint8Array>();
    frames[i] = {static_cast<uint32_t>(w), static_cast<uint32_t>(h), std::vector<unsigned char>(bytes.Data(), bytes.Data() + bytes.ByteLength())};
  }
  BusyGuard encoder = BusyGuard::Claim(env, s->model, s->model->encoderBusy, "the model's encoder");
  return (new PrefillMediaWorker(env, s, std::move(busy), std::move(encoder), info[0].As<Napi::String>(), std::move(frames), seq,
                                 info[3].ToBoolean(), AbortToken::From(env, info[4]), info[5]))->Start();
}

}  // namespace vidlm
