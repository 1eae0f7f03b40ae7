// One opened input (path, URL or bytes in memory) and what it contains. Every blocking FFmpeg
// call on it checks an interrupt callback: the current call's abort flag, close(), and a
// per-read deadline for network sources (a stall or a server that never answers).
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../abort_token.h"
#include "ffmpeg_api.h"

namespace vidlm {

// A coded failure of a video call: code (ERR_VIDEO_*), reason (a stable word), message.
struct VideoError {
  std::string code, reason, message, ffmpeg;
  bool failed() const { return !code.empty(); }
};

struct StreamInfo {
  int index = 0;
  std::string type;  // video | audio | subtitle | other
  std::string language, title;  // the container's tags, when set
  std::string codec, profile, pixFmt, sampleFmt, channelLayout;
  int bitDepth = 0, width = 0, height = 0, sampleRate = 0, channels = 0;
  AVRational sar{0, 1}, avgFps{0, 1}, rFps{0, 1}, timeBase{0, 1};
  int64_t nbFrames = 0;
  std::optional<int64_t> startTime, duration;  // stream ticks
  std::optional<std::vector<int32_t>> displayMatrix;
  bool isDefault = false, attachedPic = false;
  bool decodable = true;  // the build has a decoder for its codec
};

struct MediaInfo {
  std::string format;
  std::optional<double> duration, startTime;  // seconds
  int64_t bitRate = 0;
  int64_t fileSize = -1;
  std::vector<StreamInfo> streams;
};

struct OpenParams {
  std::string url;      // what FFmpeg opens (unused for bytes)
  std::string display;  // what messages call it
  std::vector<uint8_t> bytes;  // a Buffer source when non-empty
  std::string format;
  std::vector<std::pair<std::string, std::string>> options;
  int64_t timeoutUs = 10'000'000;
  bool network = false;
  int64_t maxPixels = 0;
};

class Demuxer {
 public:
  // `closed` outlives the demuxer (the source's flag): close() interrupts through it.
  static std::unique_ptr<Demuxer> Open(OpenParams params, const AbortFlag & abort, const std::atomic<bool> * closed, VideoError & err);
  ~Demuxer();

  AVFormatContext * ctx() const { return fmt_; }
  const MediaInfo & info() const { return info_; }
  MediaInfo & info() { return info_; }
  const OpenParams & params() const { return params_; }

  // Binds the running call's abort flag (checked by FFmpeg's blocking calls) until the next Begin.
  // True when the last call's abort interrupted a read: FFmpeg keeps that AVERROR_EXIT in the
  // AVIOContext, and every later read failed with it (ERR_VIDEO_TIMEOUT); it is cleared, and the
  // caller must seek before reading on.
  bool Begin(const AbortFlag & abort) {
    call_abort_ = abort;
    ArmDeadline();
    if (!fmt_ || !fmt_->pb || fmt_->pb->error != AVERROR_EXIT) return false;
    fmt_->pb->error = 0;
    fmt_->pb->eof_reached = 0;
    return true;
  }
  // Network sources: the next blocking read must return within the timeout.
  void ArmDeadline() {
    deadline_us_.store(params_.network ? NowUs() + params_.timeoutUs : 0, std::memory_order_relaxed);
  }
  bool closed() const { return closed_->load(); }
  // The running call should stop: aborted or closed.
  bool Cancelled() const { return closed() || IsAborted(call_abort_); }
  // The error an AVERROR from a read/seek stands for (abort, close, stall or FFmpeg's own).
  VideoError ReadError(int ret, const char * stage) const;

  // Reads the next packet of `stream` (others are skipped); false at the end or on error (`ret`).
  bool ReadPacket(AVPacket * pkt, int stream, int & ret);
  // Back to the first packet of `stream` (its start time asked for a second early: MPEG-TS/PS seek
  // by dts, and the first keyframe's dts lies before its pts, the stream's start); false when no
  // seek worked.
  bool Rewind(int stream);
  // Discards the other streams' packets in the demuxer while `stream` is read (not the side stream's).
  void Only(int stream);
  // Live sources: ReadPacket hands the packets of `stream` to `sink` as it passes them (a live
  // stream's sound read along with its pictures); -1 and no sink to stop. A sink that returns
  // true ends the read with kSideYield (the sound flows while no picture comes: the call returns it).
  void Side(int stream, std::function<bool(const AVPacket *)> sink) { side_stream_ = stream; side_ = std::move(sink); }
  static constexpr int kSideYield = FFERRTAG('Y', 'L', 'D', 'S');

  static int64_t NowUs() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }

 private:
  Demuxer() = default;
  static int OnInterrupt(void * self);
  static int ReadBytes(void * self, uint8_t * buf, int size);
  static int64_t SeekBytes(void * self, int64_t offset, int whence);
  void CollectInfo();

  OpenParams params_;
  AVFormatContext * fmt_ = nullptr;
  AVIOContext * avio_ = nullptr;
  size_t pos_ = 0;  // read position in params_.bytes
  MediaInfo info_;
  AbortFlag call_abort_;
  const std::atomic<bool> * closed_ = nullptr;
  std::atomic<int64_t> deadline_us_{0};
  int64_t bytes_seen_ = 0;  // pb->bytes_read at the last interrupt check
  int side_stream_ = -1;
  std::function<bool(const AVPacket *)> side_;
};

}  // namespace vidlm
