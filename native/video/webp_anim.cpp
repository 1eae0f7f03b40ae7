#include "webp_anim.h"

#include <algorithm>
#include <cstring>

namespace vidlm {

static uint32_t Le32(const uint8_t * p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24); }
static uint32_t Le24(const uint8_t * p) { return p[0] | (p[1] << 8) | (p[2] << 16); }
static void Put32(std::vector<uint8_t> & v, uint32_t x) { for (int i = 0; i < 4; i++) v.push_back(static_cast<uint8_t>(x >> (8 * i))); }
static void Put24(std::vector<uint8_t> & v, uint32_t x) { for (int i = 0; i < 3; i++) v.push_back(static_cast<uint8_t>(x >> (8 * i))); }

bool WebpAnimation::Sniff(const uint8_t * h, size_t n) {
  return n >= 21 && !std::memcmp(h, "RIFF", 4) && !std::memcmp(h + 8, "WEBPVP8X", 8) && (h[20] & 0x02);
}

std::unique_ptr<WebpAnimation> WebpAnimation::Parse(std::vector<uint8_t> b, const std::string & display, int64_t maxPixels, VideoError & err) {
  auto bad = [&](const std::string & why) {
    err = {"ERR_VIDEO_OPEN", "not-media", "cannot open " + display + ": animated WebP: " + why, ""};
    return nullptr;
  };
  std::unique_ptr<WebpAnimation> a(new WebpAnimation());
  a->display_ = display;
  if (!Sniff(b.data(), b.size())) return bad("no VP8X chunk with the animation flag");
  const size_t end = std::min<size_t>(b.size(), 8 + static_cast<size_t>(Le32(&b[4])));
  a->width_ = static_cast<int>(Le24(&b[24])) + 1;
  a->height_ = static_cast<int>(Le24(&b[27])) + 1;
  if (maxPixels > 0 && static_cast<int64_t>(a->width_) * a->height_ > maxPixels) {
    err = {"ERR_VIDEO_TOO_LARGE", "too-large", display + ": " + std::to_string(a->width_) + "x" + std::to_string(a->height_) + " pictures exceed maxPixels (" + std::to_string(maxPixels) + ")", ""};
    return nullptr;
  }
  int64_t t = 0;
  for (size_t off = 12; off + 8 <= end;) {
    const uint32_t size = Le32(&b[off + 4]);
    if (size > end - off - 8) return bad("a chunk runs past the end of the file");
    const uint8_t * c = &b[off + 8];
    if (!std::memcmp(&b[off], "ANMF", 4)) {
      if (size < 16) return bad("ANMF chunk too short");
      Frame f;
      f.x = static_cast<int>(Le24(c)) * 2;
      f.y = static_cast<int>(Le24(c + 3)) * 2;
      f.w = static_cast<int>(Le24(c + 6)) + 1;
      f.h = static_cast<int>(Le24(c + 9)) + 1;
      f.duration = Le24(c + 12);
      f.blend = !(c[15] & 0x02);
      f.dispose = c[15] & 0x01;
      if (f.x + f.w > a->width_ || f.y + f.h > a->height_) return bad("a frame lies outside the canvas");
      // the frame's own chunks (ALPH, VP8 / VP8L) as a standalone still
      std::vector<uint8_t> body(c + 16, c + size);
      bool alph = false;
      for (size_t k = 0; k + 8 <= body.size();) {
        if (!std::memcmp(&body[k], "ALPH", 4)) alph = true;
        k += 8 + ((Le32(&body[k + 4]) + 1) & ~1u);
      }
      std::vector<uint8_t> & s = f.still;
      s.insert(s.end(), {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'});
      if (alph) {
        s.insert(s.end(), {'V', 'P', '8', 'X'});
        Put32(s, 10);
        s.push_back(0x10);  // alpha
        s.insert(s.end(), {0, 0, 0});
        Put24(s, f.w - 1);
        Put24(s, f.h - 1);
      }
      s.insert(s.end(), body.begin(), body.end());
      const uint32_t riff = static_cast<uint32_t>(s.size() - 8);
      for (int k = 0; k < 4; k++) s[4 + k] = static_cast<uint8_t>(riff >> (8 * k));  // RIFF sizes are little-endian
      a->starts_.push_back(t);
      t += f.duration;
      a->frames_.push_back(std::move(f));
    }
    off += 8 + ((size + 1) & ~1u);
  }
  if (a->frames_.empty()) return bad("no frames");
  const FFmpeg & api = ff();
  const AVCodec * codec = api.avcodec_find_decoder(AV_CODEC_ID_WEBP);
  if (!codec) { err = {"ERR_VIDEO_DECODE", "unsupported-codec", "vidlm's FFmpeg has no webp decoder", ""}; return nullptr; }
  a->dec_ = api.avcodec_alloc_context3(codec);
  a->dec_->thread_count = 1;
  if (api.avcodec_open2(a->dec_, codec, nullptr) < 0) { err = {"ERR_VIDEO_DECODE", "decoder", "cannot open the webp decoder", ""}; return nullptr; }
  a->pkt_ = api.av_packet_alloc();
  a->pic_ = api.av_frame_alloc();
  a->out_ = api.av_frame_alloc();
  return a;
}

WebpAnimation::~WebpAnimation() {
  const FFmpeg & f = ff();
  f.avcodec_free_context(&dec_);
  f.av_packet_free(&pkt_);
  f.av_frame_free(&pic_);
  f.av_frame_free(&out_);
  if (sws_) f.sws_freeContext(sws_);
}

MediaInfo WebpAnimation::Info() const {
  MediaInfo m;
  m.format = "webp_anim";
  const int64_t total = starts_.back() + frames_.back().duration;
  m.duration = total / 1000.0;
  m.startTime = 0;
  StreamInfo s;
  s.index = 0;
  s.type = "video";
  s.codec = "webp";
  s.pixFmt = "rgba";
  s.bitDepth = 8;
  s.width = width_;
  s.height = height_;
  s.sar = {1, 1};
  s.timeBase = {1, 1000};
  s.startTime = 0;
  s.duration = total;
  s.nbFrames = static_cast<int64_t>(frames_.size());
  // a constant frame rate only when every frame lasts the same
  const bool cfr = std::all_of(frames_.begin(), frames_.end(), [&](const Frame & f) { return f.duration == frames_[0].duration; }) && frames_[0].duration > 0;
  s.avgFps = cfr ? AVRational{1000, static_cast<int>(frames_[0].duration)} : AVRational{static_cast<int>(frames_.size() * 1000), static_cast<int>(std::max<int64_t>(1, total))};
  s.rFps = cfr ? s.avgFps : AVRational{0, 1};
  s.isDefault = true;
  m.streams.push_back(s);
  return m;
}

bool WebpAnimation::DecodeStill(const Frame & fr, std::vector<uint8_t> & rgba, VideoError & err) {
  const FFmpeg & f = ff();
  f.av_packet_unref(pkt_);
  pkt_->data = const_cast<uint8_t *>(fr.still.data());
  pkt_->size = static_cast<int>(fr.still.size());
  int ret = f.avcodec_send_packet(dec_, pkt_);
  pkt_->data = nullptr;
  pkt_->size = 0;
  if (ret >= 0) ret = f.avcodec_receive_frame(dec_, pic_);
  if (ret < 0 || pic_->width != fr.w || pic_->height != fr.h) {
    err = {"ERR_VIDEO_DECODE", "decode", display_ + ": a frame of the animation cannot be decoded", ret < 0 ? AvError(ret) : ""};
    return false;
  }
  sws_ = f.sws_getCachedContext(sws_, fr.w, fr.h, static_cast<AVPixelFormat>(pic_->format), fr.w, fr.h, AV_PIX_FMT_RGBA, SWS_POINT, nullptr, nullptr, nullptr);
  if (!sws_ || !scaled_.Scale(sws_, pic_, fr.w, fr.h, 4)) {
    f.av_frame_unref(pic_);
    err = {"ERR_VIDEO_DECODE", "decode", display_ + ": a frame of the animation cannot be converted to RGBA", ""};
    return false;
  }
  rgba.resize(static_cast<size_t>(fr.w) * fr.h * 4);
  scaled_.CopyPacked(rgba.data());
  f.av_frame_unref(pic_);
  return true;
}

bool WebpAnimation::Render(size_t index, VideoError & err) {
  if (rendered_ >= 0 && static_cast<size_t>(rendered_) == index) return true;
  size_t from = 0;
  if (rendered_ >= 0 && static_cast<size_t>(rendered_) < index) from = static_cast<size_t>(rendered_) + 1;
  else canvas_.assign(static_cast<size_t>(width_) * height_ * 4, 0);  // transparent
  std::vector<uint8_t> px;
  for (size_t i = from; i <= index; i++) {
    if (i > 0 && frames_[i - 1].dispose) {
      // the previous frame is disposed to transparent before this one is drawn
      const Frame & p = frames_[i - 1];
      for (int y = p.y; y < p.y + p.h; y++) std::memset(&canvas_[(static_cast<size_t>(y) * width_ + p.x) * 4], 0, static_cast<size_t>(p.w) * 4);
    }
    const Frame & fr = frames_[i];
    if (!DecodeStill(fr, px, err)) return false;
    for (int y = 0; y < fr.h; y++) {
      for (int x = 0; x < fr.w; x++) {
        const uint8_t * s = &px[(static_cast<size_t>(y) * fr.w + x) * 4];
        uint8_t * d = &canvas_[(static_cast<size_t>(y + fr.y) * width_ + x + fr.x) * 4];
        if (!fr.blend || s[3] == 255) { std::memcpy(d, s, 4); continue; }
        // non-premultiplied "source over" of the WebP container spec
        const int sa = s[3], da = d[3] * (255 - sa) / 255, a = sa + da;
        for (int k = 0; k < 3; k++) d[k] = static_cast<uint8_t>(a ? (s[k] * sa + d[k] * da) / a : 0);
        d[3] = static_cast<uint8_t>(a);
      }
    }
  }
  rendered_ = static_cast<long>(index);
  return true;
}

bool WebpAnimation::FrameAt(int64_t target, int64_t & t, bool & clamped, const AVFrame *& frame, VideoError & err) {
  size_t i = std::lower_bound(starts_.begin(), starts_.end(), target) - starts_.begin();
  clamped = i >= frames_.size();
  if (clamped) i = frames_.size() - 1;
  if (!Render(i, err)) return false;
  const FFmpeg & f = ff();
  f.av_frame_unref(out_);
  out_->format = AV_PIX_FMT_RGBA;
  out_->width = width_;
  out_->height = height_;
  if (f.av_frame_get_buffer(out_, 0) < 0) { err = {"ERR_VIDEO_DECODE", "decode", "out of memory", ""}; return false; }
  for (int y = 0; y < height_; y++) std::memcpy(out_->data[0] + static_cast<ptrdiff_t>(y) * out_->linesize[0], &canvas_[static_cast<size_t>(y) * width_ * 4], static_cast<size_t>(width_) * 4);
  t = starts_[i];
  frame = out_;
  return true;
}

}  // namespace vidlm
