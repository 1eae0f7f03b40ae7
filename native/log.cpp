#include "log.h"

#include <cstdio>
#include <cstdlib>

#include "ggml.h"
#include "llama.h"
#include <log.h>  // common/log.h: angle brackets, since "log.h" is this file's own header
#include "mtmd-helper.h"
#include "mtmd.h"

namespace vidlm {

static thread_local LogCapture * tl_capture = nullptr;

int LogVerbosity() {
  static const int level = [] {
    const char * v = std::getenv("VIDLM_LOG");
    return v ? std::atoi(v) : 0;
  }();
  return level;
}

static void OnLog(ggml_log_level level, const char * text, void *) {
  if (tl_capture) tl_capture->append(level, text);
  const int verbosity = LogVerbosity();
  if (verbosity >= 2 || (verbosity == 1 && level >= GGML_LOG_LEVEL_WARN)) {
    std::fputs(text, stderr);
  }
}

void InstallLogHandler() {
  llama_log_set(OnLog, nullptr);
  mtmd_helper_log_set(OnLog, nullptr);  // libmtmd and its helper (which logs on stderr by itself)
  // common/ (chat templates, sampling) logs through its own logger, straight to the terminal
  const int v = LogVerbosity();
  common_log_set_verbosity_thold(v >= 2 ? LOG_LEVEL_DEBUG : v == 1 ? LOG_LEVEL_WARN : LOG_LEVEL_OUTPUT);
}

void AppendCapturedLog(int level, const char * text) {
  if (tl_capture) tl_capture->append(level, text);
}

LogCapture::LogCapture() : prev_(tl_capture) { tl_capture = this; }
LogCapture::~LogCapture() { tl_capture = prev_; }

void LogCapture::append(int level, const char * text) {
  if (text_.size() < (1 << 20)) text_ += text;
  if (level == GGML_LOG_LEVEL_ERROR) errors_ += text;
}

std::string LogCapture::lastError() const {
  std::string s = errors_;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  const size_t nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

}  // namespace vidlm
