// llama.cpp's GBNF parser and JSON-schema converter print their complaints with
// fprintf(stderr) instead of the log callback. While vidlm runs one of them to check a caller's
// grammar, file descriptor 2 points at /dev/null, unless VIDLM_LOG asks for llama.cpp's output.
// JS thread only, and only around those short calls: other threads writing to stderr in that
// window would be silenced too, and none does while llama.cpp's logging is off.
#pragma once
#include <cstdio>
#include <mutex>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#define VIDLM_DUP _dup
#define VIDLM_DUP2 _dup2
#define VIDLM_CLOSE _close
#define VIDLM_OPEN_NULL() _open("NUL", _O_WRONLY)
#else
#include <fcntl.h>
#include <unistd.h>
#define VIDLM_DUP dup
#define VIDLM_DUP2 dup2
#define VIDLM_CLOSE close
#define VIDLM_OPEN_NULL() open("/dev/null", O_WRONLY)
#endif

#include "log.h"

namespace vidlm {

class QuietStderr {
 public:
  QuietStderr() {
    if (LogVerbosity() > 0) return;
    lock_ = std::unique_lock<std::mutex>(Mutex());  // worker_threads share the process's fd 2
    std::fflush(stderr);
    const int nul = VIDLM_OPEN_NULL();
    if (nul < 0) return;
    saved_ = VIDLM_DUP(2);
    if (saved_ >= 0) VIDLM_DUP2(nul, 2);
    VIDLM_CLOSE(nul);
  }
  ~QuietStderr() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    VIDLM_DUP2(saved_, 2);
    VIDLM_CLOSE(saved_);
  }
  QuietStderr(const QuietStderr &) = delete;
  QuietStderr & operator=(const QuietStderr &) = delete;

 private:
  static std::mutex & Mutex() {
    static std::mutex m;
    return m;
  }
  std::unique_lock<std::mutex> lock_;
  int saved_ = -1;
};

}  // namespace vidlm
