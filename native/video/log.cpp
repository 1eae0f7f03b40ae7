// FFmpeg logs through vidlm's log handling: quiet unless VIDLM_LOG is set (1 = warnings and
// errors, 2 = everything), and error lines are captured on the worker thread that caused them,
// so an ERR_VIDEO_* can say what FFmpeg said.
#include <cstdio>
#include <cstdlib>

#include "../log.h"
#include "ffmpeg_api.h"

namespace vidlm {

static int Verbosity() {
  static const int v = [] {
    const char * s = std::getenv("VIDLM_LOG");
    return s ? std::atoi(s) : 0;
  }();
  return v;
}

static const FFmpeg * g_api = nullptr;

static void OnAvLog(void * avcl, int level, const char * fmt, va_list vl) {
  if (level > AV_LOG_INFO && Verbosity() < 2) return;
  char line[1024];
  int prefix = 1;
  g_api->av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &prefix);
  AppendCapturedLog(level <= AV_LOG_ERROR ? 4 : level <= AV_LOG_WARNING ? 3 : 2, line);
  const int v = Verbosity();
  if (v >= 2 || (v == 1 && level <= AV_LOG_WARNING)) std::fputs(line, stderr);
}

void InstallFFmpegLog(const FFmpeg & api) {
  g_api = &api;
  api.av_log_set_callback(OnAvLog);
}

}  // namespace vidlm
