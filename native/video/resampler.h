// Any decoded audio frame to interleaved Float32 at one rate and channel count (swresample),
// re-initialised when the input's format, rate or layout changes mid-stream.
#pragma once
#include "ffmpeg_api.h"

namespace vidlm {

struct Resampler {
  SwrContext * swr = nullptr;
  int format = -1, rate = 0;
  AVChannelLayout layout{};
  ~Resampler() {
    ff().swr_free(&swr);
    ff().av_channel_layout_uninit(&layout);
  }
  bool Matches(const AVFrame * f) const {
    return swr && f->format == format && f->sample_rate == rate && f->ch_layout.nb_channels == layout.nb_channels &&
           f->ch_layout.order == layout.order && (f->ch_layout.order != AV_CHANNEL_ORDER_NATIVE || f->ch_layout.u.mask == layout.u.mask);
  }
  bool Init(const AVFrame * f, int outRate, int outChannels) {
    const FFmpeg & a = ff();
    a.swr_free(&swr);
    a.av_channel_layout_uninit(&layout);
    if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) a.av_channel_layout_default(&layout, f->ch_layout.nb_channels);
    else a.av_channel_layout_copy(&layout, &f->ch_layout);
    format = f->format;
    rate = f->sample_rate;
    AVChannelLayout out{};
    a.av_channel_layout_default(&out, outChannels);
    swr = a.swr_alloc();
    if (!swr) return false;
    a.av_opt_set_chlayout(swr, "in_chlayout", &layout, 0);
    a.av_opt_set_int(swr, "in_sample_rate", rate, 0);
    a.av_opt_set_sample_fmt(swr, "in_sample_fmt", static_cast<AVSampleFormat>(format), 0);
    a.av_opt_set_chlayout(swr, "out_chlayout", &out, 0);
    a.av_opt_set_int(swr, "out_sample_rate", outRate, 0);
    a.av_opt_set_sample_fmt(swr, "out_sample_fmt", AV_SAMPLE_FMT_FLT, 0);
    a.av_channel_layout_uninit(&out);
    return a.swr_init(swr) >= 0;
  }
};


}  // namespace vidlm
