// llama.cpp, ggml and mtmd log through one callback. vidlm keeps them quiet unless VIDLM_LOG
// is set (1 = warnings and errors, 2 = everything), and captures the lines logged on a worker
// thread while it runs so that a failed load can say why.
#pragma once
#include <string>

namespace vidlm {

void InstallLogHandler();
// Adds a line to the current thread's LogCapture, if any (FFmpeg's log goes through this too).
void AppendCapturedLog(int level, const char * text);
// VIDLM_LOG: 0 (default) silent, 1 warnings and errors, 2 everything.
int LogVerbosity();

// Collects the log lines of the current thread for as long as it lives.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  const std::string & text() const { return text_; }
  // The last error-looking line, trimmed, or "" when there is none.
  std::string lastError() const;
  void append(int level, const char * text);

 private:
  std::string text_;
  std::string errors_;
  LogCapture * prev_;
};

}  // namespace vidlm
