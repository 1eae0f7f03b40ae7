// Animated WebP, which FFmpeg 7.1 cannot decode (its webp decoder refuses ANIM files): the RIFF
// container is read here, each ANMF frame's bitstream is handed to FFmpeg's webp decoder as a
// still of its own, and frames are composited on the canvas as the WebP container spec says
// (alpha blending or not, disposal to transparent). Frames come out as RGBA canvases.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "convert.h"
#include "demuxer.h"

namespace vidlm {

class WebpAnimation {
 public:
  // True when `head` (the first bytes of a file) is an animated WebP.
  static bool Sniff(const uint8_t * head, size_t n);
  static std::unique_ptr<WebpAnimation> Parse(std::vector<uint8_t> bytes, const std::string & display, int64_t maxPixels, VideoError & err);
  ~WebpAnimation();

  // One video stream, time base 1/1000 (WebP durations are milliseconds).
  MediaInfo Info() const;
  // Frame start times, ms.
  const std::vector<int64_t> & times() const { return starts_; }
  // The canvas shown at the first frame starting at or after `target` (ms), or the last frame
  // (clamped) when the target is past it. The frame is valid until the next call.
  bool FrameAt(int64_t target, int64_t & t, bool & clamped, const AVFrame *& frame, VideoError & err);

 private:
  struct Frame {
    int x = 0, y = 0, w = 0, h = 0;
    int64_t duration = 0;
    bool blend = true, dispose = false;
    std::vector<uint8_t> still;  // the frame as a standalone WebP file
  };
  WebpAnimation() = default;
  bool Render(size_t index, VideoError & err);
  bool DecodeStill(const Frame & f, std::vector<uint8_t> & rgba, VideoError & err);

  std::string display_;
  int width_ = 0, height_ = 0;
  std::vector<Frame> frames_;
  std::vector<int64_t> starts_;
  std::vector<uint8_t> canvas_;  // RGBA, straight alpha
  long rendered_ = -1;           // the frame the canvas shows
  AVFrame * out_ = nullptr;
  AVCodecContext * dec_ = nullptr;
  AVPacket * pkt_ = nullptr;
  AVFrame * pic_ = nullptr;
  SwsContext * sws_ = nullptr;
  ScaledRows scaled_;  // kept: an animation's frames share one size
};

}  // namespace vidlm
