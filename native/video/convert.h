// Decoded frame -> tightly packed RGB24 at the requested size and fit, upright as the display
// matrix says (the ffmpeg program's autorotate), pixel aspect applied, alpha composited on white.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ffmpeg_api.h"

namespace vidlm {

// The rows swscale writes into. Its SIMD converters write whole blocks of pixels, past a row's end, and
// its unscaled YUV→RGB one converts (width rounded up to 8) pixels only where the row has room for them,
// else it leaves the last width % 8 unwritten: packed rows corrupted the heap at widths 200, 202 … and
// left black columns at 194, 196 …. These rows are as libavfilter's frames (the ffmpeg program's) have
// them: the width rounded up to 32 pixels, aligned to 64 bytes, and room after the picture. The buffer
// is kept between frames.
class ScaledRows {
 public:
  // Scales all of `src` to w × h pixels of `bytesPerPixel`; false when swscale fails.
  bool Scale(SwsContext * sws, const AVFrame * src, int w, int h, int bytesPerPixel);
  const uint8_t * Row(int y) const { return bytes_.data() + static_cast<size_t>(y) * linesize_; }
  // The picture, packed (rows of exactly w × bytesPerPixel bytes), into `dst`.
  void CopyPacked(uint8_t * dst) const;

 private:
  static constexpr size_t kTail = 256;
  std::vector<uint8_t> bytes_;
  int linesize_ = 0, rowBytes_ = 0, height_ = 0;
};

enum class Fit { Stretch, Pad, Crop };

struct ConvertSpec {
  int width = 0, height = 0;  // 0 x 0: the display size
  Fit fit = Fit::Stretch;
  uint8_t pad[3] = {0, 0, 0};
  int swsFlags = SWS_BICUBIC;
  bool hasMatrix = false;     // the stream's display matrix; else the frame's (EXIF orientation)
  int32_t matrix[9] = {0};
};

struct Picture {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

// How a display matrix turns the stored picture upright: a transpose and row/column reversal
// (fftools' autorotate filters: transpose=clock / cclock / *_flip, hflip, vflip).
struct Orientation {
  bool transpose = false, flipRows = false, flipCols = false;
  bool identity() const { return !transpose && !flipRows && !flipCols; }
};
Orientation OrientationOf(const int32_t m[9]);

// Parses a swscale algorithm name ("bicubic", "lanczos"...); -1 when unknown.
int SwsFlagsByName(const std::string & name);

// Pictures converted by this process so far (every source): lets tests see that live sampling
// converts only the frames it keeps.
uint64_t PicturesConverted();

class FrameConverter {
 public:
  ~FrameConverter();
  // false with `error` set when the frame cannot be converted.
  bool Convert(const AVFrame * frame, const ConvertSpec & spec, Picture & out, std::string & error);

 private:
  SwsContext * sws_ = nullptr;
  AVFrame * rotated_ = nullptr;
  AVFrame * staged_ = nullptr;
  ScaledRows scaled_;
};

}  // namespace vidlm
