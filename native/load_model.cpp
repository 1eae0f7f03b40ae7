// loadModel(): loads the LLM and its mmproj on a worker thread. Files were already checked by
// lib/gguf (llama.cpp's asserts would end the process); what llama.cpp still rejects comes back
// as ERR_MODEL_LOAD / ERR_MMPROJ_LOAD / ERR_MMPROJ_MISMATCH with its own log line as the reason.
#include <vector>

#include "abort_token.h"
#include "compute.h"
#include "errors.h"
#include "log.h"
#include "model.h"
#include "grid.h"
#include "token_rows.h"
#include "options.h"
#include "progress.h"
#include "worker.h"

namespace vidlm {

namespace {

struct LoadOptions {
  std::string model, mmproj;
  int threads = 4;
  int gpuLayers = 0;
  bool mmprojGpu = true;
  int probeSize = 0;  // the encoder's input side (clip.vision.image_size), 0: unknown
};

struct ProgressCtx {
  Progress * progress;
  AbortFlag abort;
  float from, span;
};

static bool OnProgress(float p, void * ud) {
  auto * c = static_cast<ProgressCtx *>(ud);
  c->progress->report(c->from + p * c->span);
  return !IsAborted(c->abort);
}

// Fills the shape facts that need a live mtmd context: tokens per image from a blank image of
// the encoder's size (preprocessing only, no encode).
static void ProbeImageShape(ModelState & s, int probeSize) {
  // fixed-size preprocessors resize, so the grid does not depend on this size; the M-RoPE family
  // keeps an image's own resolution, so its grid is the one of the frames vidlm samples: the encoder's side
  const int side = mtmd_decode_use_mrope(s.mtmd) && probeSize >= 28 && probeSize <= 4096 ? probeSize : 448;
  std::vector<unsigned char> rgb(static_cast<size_t>(side) * side * 3, 0);
  mtmd::bitmap_ptr bmp(mtmd_bitmap_init(side, side, rgb.data()));
  mtmd::input_chunks_ptr owned(mtmd_input_chunks_init());
  mtmd_input_chunks * chunks = owned.get();
  std::string prompt = s.info.mediaMarker;
  mtmd_input_text text{prompt.c_str(), prompt.size(), false, true};
  const mtmd_bitmap * bitmaps[] = {bmp.get()};
  if (mtmd_tokenize(s.mtmd, chunks, &text, bitmaps, 1) == 0) {
    bool seenImage = false;
    for (size_t i = 0; i < mtmd_input_chunks_size(chunks); i++) {
      const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks, i);
      if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
        size_t n = 0;
        const llama_token * t = mtmd_input_chunk_get_tokens_text(chunk, &n);
        (seenImage ? s.info.imageAfter : s.info.imageBefore).assign(t, t + n);
        continue;
      }
      if (mtmd_input_chunk_get_type(chunk) != MTMD_INPUT_CHUNK_TYPE_IMAGE || seenImage) continue;
      seenImage = true;
      const mtmd_image_tokens * it = mtmd_input_chunk_get_tokens_image(chunk);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      s.info.imageNx = static_cast<int>(mtmd_image_tokens_get_nx(it));
      s.info.imageNy = static_cast<int>(mtmd_image_tokens_get_ny(it));
#pragma GCC diagnostic pop
      s.info.imageTokens = static_cast<int>(mtmd_image_tokens_get_n_tokens(it));
      const Grid g = VisualGrid(s.info.imageTokens, s.info.imageNx, s.info.imageNy);
      s.info.imageNx = g.nx;
      s.info.imageNy = g.ny;
      s.info.nonCausalImageAttention = mtmd_decode_use_non_causal(s.mtmd, chunk);
    }
  }
}

static std::string MetaString(const llama_model * model, const char * key) {
  char buf[256];
  const int n = llama_model_meta_val_str(model, key, buf, sizeof(buf));
  return n < 0 ? std::string() : std::string(buf);
}

class LoadModelWorker : public PromiseWorker {
 public:
  LoadModelWorker(Napi::Env env, LoadOptions opts, AbortFlag abort, const Napi::Value & onProgress)
      : PromiseWorker(env, "vidlm.loadModel", "ERR_MODEL_LOAD", abort),
        opts_(std::move(opts)),
        abort_(std::move(abort)),
        progress_(env, onProgress, "vidlm.loadModel.progress") {}

  void Run() override {
    LogCapture log;
    auto state = std::make_shared<ModelState>();
    state->threads = opts_.threads;
    const bool hasMmproj = !opts_.mmproj.empty();
    ProgressCtx pc{&progress_, abort_, 0.0f, hasMmproj ? 0.8f : 1.0f};

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = opts_.gpuLayers;
    mp.progress_callback = OnProgress;
    mp.progress_callback_user_data = &pc;
    state->model = llama_model_load_from_file(opts_.model.c_str(), mp);
    if (IsAborted(abort_)) return Fail("ERR_ABORTED", "aborted: model loading was cancelled");
    if (!state->model) return Fail("ERR_MODEL_LOAD", "llama.cpp could not load " + opts_.model, &log);

    ModelInfo & m = state->info;
    const llama_vocab * vocab = llama_model_get_vocab(state->model);
    m.architecture = MetaString(state->model, "general.architecture");
    char desc[256];
    llama_model_desc(state->model, desc, sizeof(desc));
    m.description = desc;
    m.nEmbd = llama_model_n_embd(state->model);
    m.nEmbdInp = llama_model_n_embd_inp(state->model);
    m.nLayer = llama_model_n_layer(state->model);
    m.nHead = llama_model_n_head(state->model);
    m.nCtxTrain = llama_model_n_ctx_train(state->model);
    m.nVocab = llama_vocab_n_tokens(vocab);
    m.mediaMarker = mtmd_default_marker();
    m.addBos = llama_vocab_get_add_bos(vocab);
    m.bosToken = llama_vocab_bos(vocab);
    m.nParams = static_cast<double>(llama_model_n_params(state->model));
    const char * tmpl = llama_model_chat_template(state->model, nullptr);
    m.hasChatTemplate = tmpl != nullptr;
    if (tmpl) m.chatTemplate = tmpl;
    state->tokenRows = TokenRows::Open(opts_.model, m.architecture, m.nEmbd);

    if (hasMmproj) {
      mtmd_context_params cp = mtmd_context_params_default();
      cp.use_gpu = opts_.mmprojGpu;
      cp.n_threads = opts_.threads;
      cp.print_timings = false;
      cp.warmup = false;
      pc.from = 0.8f;
      pc.span = 0.2f;
      cp.progress_callback = OnProgress;
      cp.progress_callback_user_data = &pc;
      state->mtmd = mtmd_init_from_file(opts_.mmproj.c_str(), state->model, cp);
      if (IsAborted(abort_)) return Fail("ERR_ABORTED", "aborted: mmproj loading was cancelled");
      if (!state->mtmd) {
        const bool mismatch = log.text().find("mismatch between text model") != std::string::npos;
        return Fail(mismatch ? "ERR_MMPROJ_MISMATCH" : "ERR_MMPROJ_LOAD",
                    (mismatch ? "the mmproj does not fit the model " : "libmtmd could not load the mmproj ") + opts_.mmproj, &log);
      }
      m.vision = mtmd_support_vision(state->mtmd);
      m.audio = mtmd_support_audio(state->mtmd);
      m.audioSampleRate = m.audio ? mtmd_get_audio_sample_rate(state->mtmd) : 0;
      m.mrope = mtmd_decode_use_mrope(state->mtmd);
      m.mediaMarker = mtmd_get_marker(state->mtmd);
      state->mtmdThreadsSettable = CheckMtmdLayout(state->mtmd, opts_.threads, m.vision, m.audio);
      if (m.vision) ProbeImageShape(*state, opts_.probeSize);
    }
    progress_.report(1.0f);
    state_ = std::move(state);
  }

  Napi::Value Result(Napi::Env env) override { return Model::NewInstance(env, std::move(state_)); }
  void Settled() override { progress_.release(); }
  void Abandon() override { progress_.abandon(); }

 private:
  LoadOptions opts_;
  AbortFlag abort_;
  Progress progress_;
  std::shared_ptr<ModelState> state_;
};

}  // namespace

// loadModel({ model, mmproj?, threads, gpuLayers, mmprojGpu }, abortToken?, onProgress?)
Napi::Value LoadModel(const Napi::CallbackInfo & info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) Throw(env, "ERR_INVALID_ARG", "loadModel expects an options object");
  Napi::Object o = info[0].As<Napi::Object>();
  LoadOptions opts;
  if (!o.Get("model").IsString()) Throw(env, "ERR_INVALID_ARG", "options.model must be a path");
  opts.model = o.Get("model").As<Napi::String>();
  ReadOption(o, "mmproj", opts.mmproj);
  ReadOption(o, "threads", opts.threads);
  ReadOption(o, "gpuLayers", opts.gpuLayers);
  ReadOption(o, "mmprojGpu", opts.mmprojGpu);
  ReadOption(o, "probeSize", opts.probeSize);
  return (new LoadModelWorker(env, std::move(opts), AbortToken::From(env, info[1]), info[2]))->Start();
}

}  // namespace vidlm
