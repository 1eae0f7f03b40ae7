#include "convert.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

namespace vidlm {

Orientation OrientationOf(const int32_t m[9]) {
  // cmdutils.c get_rotation() and ffmpeg_filter.c's choice of filters, as the ffmpeg program does
  const double r = ff().av_display_rotation_get(m);
  double theta = std::isnan(r) ? 0 : -std::round(r);
  theta -= 360 * std::floor(theta / 360 + 0.9 / 360);
  Orientation o;
  if (std::fabs(theta - 90) < 1) {
    o.transpose = true;
    if (m[3] > 0) { /* cclock_flip: plain transpose */ } else o.flipRows = true;  // clock
  } else if (std::fabs(theta - 180) < 1) {
    o.flipCols = m[0] < 0;
    o.flipRows = m[4] < 0;
  } else if (std::fabs(theta - 270) < 1) {
    o.transpose = true;
    if (m[3] < 0) { o.flipRows = true; o.flipCols = true; } else o.flipCols = true;  // clock_flip : cclock
  } else if (std::fabs(theta) <= 1 && m[4] < 0) {
    o.flipRows = true;  // vflip
  }
  return o;
}

bool ScaledRows::Scale(SwsContext * sws, const AVFrame * src, int w, int h, int bytesPerPixel) {
  rowBytes_ = w * bytesPerPixel;
  linesize_ = (((w + 31) & ~31) * bytesPerPixel + 63) & ~63;
  height_ = h;
  bytes_.resize(static_cast<size_t>(linesize_) * h + kTail);
  uint8_t * dst[4] = {bytes_.data(), nullptr, nullptr, nullptr};
  int dstLs[4] = {linesize_, 0, 0, 0};
  return ff().sws_scale(sws, src->data, src->linesize, 0, src->height, dst, dstLs) > 0;
}

void ScaledRows::CopyPacked(uint8_t * dst) const {
  ff().av_image_copy_plane(dst, rowBytes_, bytes_.data(), linesize_, rowBytes_, height_);
}

int SwsFlagsByName(const std::string & n) {
  if (n == "bicubic") return SWS_BICUBIC;
  if (n == "bilinear") return SWS_BILINEAR;
  if (n == "area") return SWS_AREA;
  if (n == "lanczos") return SWS_LANCZOS;
  if (n == "neighbor") return SWS_POINT;
  if (n == "fast_bilinear") return SWS_FAST_BILINEAR;
  if (n == "spline") return SWS_SPLINE;
  return -1;
}

FrameConverter::~FrameConverter() {
  // nothing was allocated unless FFmpeg loaded (and ff() throws when it did not)
  if (!sws_ && !rotated_ && !staged_) return;
  if (sws_) ff().sws_freeContext(sws_);
  ff().av_frame_free(&rotated_);
  ff().av_frame_free(&staged_);
}

// Copies one plane with out[y][x] = in[r][c]: transposed (r from x, c from y) or not, with the
// source rows and/or columns reversed. `bps` bytes per sample (1 or 2).
static void OrientPlane(const uint8_t * src, int srcLs, int w, int h, uint8_t * dst, int dstLs, int bps, const Orientation & o) {
  const int ow = o.transpose ? h : w, oh = o.transpose ? w : h;
  for (int y = 0; y < oh; y++) {
    uint8_t * d = dst + static_cast<ptrdiff_t>(y) * dstLs;
    for (int x = 0; x < ow; x++) {
      int r = o.transpose ? x : y, c = o.transpose ? y : x;
      if (o.flipRows) r = h - 1 - r;
      if (o.flipCols) c = w - 1 - c;
      std::memcpy(d + x * bps, src + static_cast<ptrdiff_t>(r) * srcLs + c * bps, bps);
    }
  }
}

// Planar formats whose planes can be reoriented one by one (equal chroma subsampling both ways).
static bool Orientable(const AVPixFmtDescriptor * d) {
  if (!d || (d->flags & (AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL))) return false;
  if (d->log2_chroma_w != d->log2_chroma_h) return false;
  for (int i = 0; i < d->nb_components; i++) {
    if (d->comp[i].step != (d->comp[i].depth > 8 ? 2 : 1)) return false;  // one sample per step: planar
  }
  return (d->flags & AV_PIX_FMT_FLAG_PLANAR) || d->nb_components == 1;
}

static int PlaneCount(const AVPixFmtDescriptor * d) {
  int n = 0;
  for (int i = 0; i < d->nb_components; i++) n = std::max(n, d->comp[i].plane + 1);
  return n;
}

static void SetColorDetails(SwsContext * sws, const AVFrame * f) {
  // vf_scale's defaults: the frame's own matrix and range
  int *inv = nullptr, *table = nullptr, srcRange = 0, dstRange = 0, b = 0, c = 0, s = 0;
  if (ff().sws_getColorspaceDetails(sws, &inv, &srcRange, &table, &dstRange, &b, &c, &s) < 0) return;
  const int * coeffs = ff().sws_getCoefficients(f->colorspace);
  if (f->color_range != AVCOL_RANGE_UNSPECIFIED) srcRange = f->color_range == AVCOL_RANGE_JPEG;
  ff().sws_setColorspaceDetails(sws, coeffs, srcRange, coeffs, dstRange, b, c, s);
}

static std::atomic<uint64_t> g_converted{0};

uint64_t PicturesConverted() { return g_converted.load(std::memory_order_relaxed); }

bool FrameConverter::Convert(const AVFrame * in, const ConvertSpec & spec, Picture & out, std::string & error) {
  g_converted.fetch_add(1, std::memory_order_relaxed);
  const FFmpeg & f = ff();
  const AVFrame * src = in;
  // orientation: the stream's display matrix, else the frame's (a JPEG's EXIF orientation)
  Orientation o;
  if (spec.hasMatrix) o = OrientationOf(spec.matrix);
  else if (const AVFrameSideData * sd = f.av_frame_get_side_data(in, AV_FRAME_DATA_DISPLAYMATRIX); sd && sd->size >= 36) {
    o = OrientationOf(reinterpret_cast<const int32_t *>(sd->data));
  }
  const AVPixFmtDescriptor * desc = f.av_pix_fmt_desc_get(static_cast<AVPixelFormat>(in->format));
  if (!desc) { error = "unknown pixel format"; return false; }
  if (!o.identity()) {
    if (!Orientable(desc)) {
      // packed or oddly subsampled: to planar 4:4:4 first, at the same size, then reorient
      const bool alpha = desc->flags & AV_PIX_FMT_FLAG_ALPHA;
      const AVPixelFormat to = alpha ? AV_PIX_FMT_YUVA444P : AV_PIX_FMT_YUV444P;
      if (!staged_) staged_ = f.av_frame_alloc();
      f.av_frame_unref(staged_);
      staged_->format = to; staged_->width = in->width; staged_->height = in->height;
      if (f.av_frame_get_buffer(staged_, 0) < 0) { error = "out of memory"; return false; }
      sws_ = f.sws_getCachedContext(sws_, in->width, in->height, static_cast<AVPixelFormat>(in->format), in->width, in->height, to, SWS_POINT, nullptr, nullptr, nullptr);
      if (!sws_) { error = "unsupported pixel format"; return false; }
      SetColorDetails(sws_, in);
      f.sws_scale(sws_, in->data, in->linesize, 0, in->height, staged_->data, staged_->linesize);
      staged_->colorspace = in->colorspace; staged_->color_range = in->color_range; staged_->sample_aspect_ratio = in->sample_aspect_ratio;
      src = staged_;
      desc = f.av_pix_fmt_desc_get(to);
    }
    if (!rotated_) rotated_ = f.av_frame_alloc();
    f.av_frame_unref(rotated_);
    rotated_->format = src->format;
    rotated_->width = o.transpose ? src->height : src->width;
    rotated_->height = o.transpose ? src->width : src->height;
    if (f.av_frame_get_buffer(rotated_, 0) < 0) { error = "out of memory"; return false; }
    const int bps = desc->comp[0].depth > 8 ? 2 : 1;
    for (int p = 0; p < PlaneCount(desc); p++) {
      const bool chroma = (p == 1 || p == 2) && !(desc->flags & AV_PIX_FMT_FLAG_RGB);
      const int w = chroma ? AV_CEIL_RSHIFT(src->width, desc->log2_chroma_w) : src->width;
      const int h = chroma ? AV_CEIL_RSHIFT(src->height, desc->log2_chroma_h) : src->height;
      OrientPlane(src->data[p], src->linesize[p], w, h, rotated_->data[p], rotated_->linesize[p], bps, o);
    }
    rotated_->colorspace = src->colorspace;
    rotated_->color_range = src->color_range;
    rotated_->sample_aspect_ratio = src->sample_aspect_ratio;
    src = rotated_;
  }

  // geometry (lib/video's former filter plan): display aspect, then stretch / pad / crop
  const int w = src->width, h = src->height;
  double sar = src->sample_aspect_ratio.num > 0 && src->sample_aspect_ratio.den > 0 ? av_q2d(src->sample_aspect_ratio) : 1.0;
  if (o.transpose) sar = 1.0 / sar;
  const double dispW = w * sar, dispH = h;
  int outW, outH, sw, sh;
  if (spec.width <= 0) {
    outW = sw = std::max(1, static_cast<int>(std::lround(dispW)));
    outH = sh = h;
  } else {
    outW = spec.width; outH = spec.height;
    if (spec.fit == Fit::Stretch) { sw = outW; sh = outH; }
    else if (spec.fit == Fit::Pad) {
      const double s = std::min(outW / dispW, outH / dispH);
      sw = std::min(outW, std::max(1, static_cast<int>(std::lround(dispW * s))));
      sh = std::min(outH, std::max(1, static_cast<int>(std::lround(dispH * s))));
    } else {
      const double s = std::max(outW / dispW, outH / dispH);
      sw = std::max(outW, static_cast<int>(std::lround(dispW * s)));
      sh = std::max(outH, static_cast<int>(std::lround(dispH * s)));
    }
  }
  const bool alpha = desc->flags & AV_PIX_FMT_FLAG_ALPHA;
  const AVPixelFormat dstFmt = alpha ? AV_PIX_FMT_RGBA : AV_PIX_FMT_RGB24;
  const int bpp = alpha ? 4 : 3;
  sws_ = f.sws_getCachedContext(sws_, w, h, static_cast<AVPixelFormat>(src->format), sw, sh, dstFmt, spec.swsFlags, nullptr, nullptr, nullptr);
  if (!sws_) { error = std::string("cannot convert ") + desc->name + " to RGB"; return false; }
  SetColorDetails(sws_, src);

  out.width = outW;
  out.height = outH;
  out.rgb.assign(static_cast<size_t>(outW) * outH * 3, 0);
  if (!scaled_.Scale(sws_, src, sw, sh, bpp)) { error = "scaling failed"; return false; }
  if (!alpha && sw == outW && sh == outH) {
    scaled_.CopyPacked(out.rgb.data());
    return true;
  }

  // place the scaled picture: centred with pad colour around it (pad), or its centre (crop)
  const int ox = spec.fit == Fit::Crop ? -((sw - outW) / 2) : (outW - sw) / 2;
  const int oy = spec.fit == Fit::Crop ? -((sh - outH) / 2) : (outH - sh) / 2;
  if (sw < outW || sh < outH) {
    for (size_t i = 0; i < out.rgb.size(); i += 3) std::memcpy(&out.rgb[i], spec.pad, 3);
  }
  for (int y = 0; y < outH; y++) {
    const int sy = y - oy;
    if (sy < 0 || sy >= sh) continue;
    uint8_t * d = &out.rgb[static_cast<size_t>(y) * outW * 3];
    for (int x = 0; x < outW; x++) {
      const int sx = x - ox;
      if (sx < 0 || sx >= sw) continue;
      const uint8_t * p = scaled_.Row(sy) + static_cast<size_t>(sx) * bpp;
      if (alpha) {
        // composited on white, as a page or viewer shows a transparent picture
        const int a = p[3];
        for (int k = 0; k < 3; k++) d[x * 3 + k] = static_cast<uint8_t>((p[k] * a + 255 * (255 - a) + 127) / 255);
      } else {
        std::memcpy(d + x * 3, p, 3);
      }
    }
  }
  return true;
}

}  // namespace vidlm
