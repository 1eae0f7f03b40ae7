// A loaded LLM (llama_model) with its optional mmproj (mtmd_context). Owned by a JS `Model`
// object; freed by dispose() or by the garbage collector, whichever comes first, and only
// once no call that uses it is still running.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chat.h"
#include "compute.h"
#include "llama.h"
#include "mtmd.h"
#include "token_rows.h"

namespace vidlm {

struct ModelInfo {
  std::string architecture;
  std::string description;
  int nEmbd = 0, nEmbdInp = 0, nLayer = 0, nHead = 0, nCtxTrain = 0, nVocab = 0;
  double nParams = 0;
  std::string chatTemplate;
  bool hasChatTemplate = false;
  bool vision = false, audio = false, mrope = false, nonCausalImageAttention = false;
  int audioSampleRate = 0;
  int imageNx = 0, imageNy = 0, imageTokens = 0;
  std::string mediaMarker;
  bool addBos = false;
  int32_t bosToken = -1;
  // Text tokens libmtmd puts around each image (e.g. <start_of_image>); empty for LLaVA.
  std::vector<int32_t> imageBefore, imageAfter;
};

struct ModelState {
  llama_model * model = nullptr;
  mtmd_context * mtmd = nullptr;
  std::atomic<bool> encoderBusy{false};  // BusyGuard: libmtmd encodes one call at a time
  ModelInfo info;
  int threads = 4;
  ComputeSettings compute;         // the encoder's threads for the next graphs (setCompute)
  bool mtmdThreadsSettable = false;  // CheckMtmdLayout passed: encoder threads can change per call
  // text tokens can be evaluated as their token_embd rows (native/token_rows.h); null: they cannot
  std::unique_ptr<TokenRows> tokenRows;
  std::mutex templatesMutex;  // parsed chat templates, made on first use
  common_chat_templates_ptr templates;
  std::string templatesOverride;
  ~ModelState();
};

class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<ModelState> state);
  explicit Model(const Napi::CallbackInfo & info);

  // The state for a call that runs off the JS thread; throws ERR_DISPOSED after dispose().
  std::shared_ptr<ModelState> acquire(Napi::Env env);

 private:
  Napi::Value Info(const Napi::CallbackInfo & info);
  Napi::Value Dispose(const Napi::CallbackInfo & info);
  Napi::Value Disposed(const Napi::CallbackInfo & info);
  Napi::Value Encode(const Napi::CallbackInfo & info);
  Napi::Value EncodeAudio(const Napi::CallbackInfo & info);
  Napi::Value ApplyTemplate(const Napi::CallbackInfo & info);
  Napi::Value ApplyTemplateAsync(const Napi::CallbackInfo & info);
  Napi::Value ApplyToolsTemplateAsync(const Napi::CallbackInfo & info);
  Napi::Value ParseChatOutputAsync(const Napi::CallbackInfo & info);
  Napi::Value FormatTurn(const Napi::CallbackInfo & info);
  Napi::Value CreateContext(const Napi::CallbackInfo & info);
  Napi::Value CheckGrammar(const Napi::CallbackInfo & info);
  Napi::Value SchemaToGrammar(const Napi::CallbackInfo & info);
  Napi::Value CountTokens(const Napi::CallbackInfo & info);
  Napi::Value SetCompute(const Napi::CallbackInfo & info);
  Napi::Value TokenizeAsync(const Napi::CallbackInfo & info);
  Napi::Value MaxTokenBytes(const Napi::CallbackInfo & info);

  // Workers hold their own shared_ptr, so the last of (this object, running calls) frees it.
  std::shared_ptr<ModelState> state_;
};

Napi::Value LoadModel(const Napi::CallbackInfo & info);

}  // namespace vidlm
