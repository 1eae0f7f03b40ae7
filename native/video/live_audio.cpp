#include "live_audio.h"

#include <cmath>

namespace vidlm {

LiveAudio::LiveAudio(AVStream * st, int rate) : stream_(st->index), rate_(rate), tb_(av_q2d(st->time_base)) {
  const FFmpeg & f = ff();
  const AVCodec * codec = f.avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec) return;
  dec_ = f.avcodec_alloc_context3(codec);
  f.avcodec_parameters_to_context(dec_, st->codecpar);
  dec_->pkt_timebase = st->time_base;
  if (f.avcodec_open2(dec_, codec, nullptr) < 0) { f.avcodec_free_context(&dec_); return; }
  frame_ = f.av_frame_alloc();
}

LiveAudio::~LiveAudio() {
  ff().av_frame_free(&frame_);
  ff().avcodec_free_context(&dec_);
}

// A run goes on while the samples follow each other (within 20 ms); a gap or a jump starts a new one.
void LiveAudio::Add(double t, const float * samples, int n) {
  if (n <= 0) return;
  AudioRun * last = runs_.empty() ? nullptr : &runs_.back();
  if (!last || std::fabs(last->t + static_cast<double>(last->pcm.size()) / rate_ - t) > 0.02) {
    runs_.push_back(AudioRun{t, {}});
    last = &runs_.back();
  }
  last->pcm.insert(last->pcm.end(), samples, samples + n);
}

void LiveAudio::Packet(const AVPacket * pkt) {
  if (!dec_) return;
  const FFmpeg & f = ff();
  if (f.avcodec_send_packet(dec_, pkt) < 0) { errors_++; return; }
  while (f.avcodec_receive_frame(dec_, frame_) >= 0) {
    const int64_t ft = frame_->best_effort_timestamp != AV_NOPTS_VALUE ? frame_->best_effort_timestamp : frame_->pts;
    if (ft != AV_NOPTS_VALUE && frame_->nb_samples > 0 && (rs_.Matches(frame_) || rs_.Init(frame_, rate_, 1))) {
      const int cap = f.swr_get_out_samples(rs_.swr, frame_->nb_samples) + 32;
      chunk_.resize(static_cast<size_t>(std::max(cap, 0)));
      uint8_t * out[1] = {reinterpret_cast<uint8_t *>(chunk_.data())};
      const int n = cap > 0 ? f.swr_convert(rs_.swr, out, cap, const_cast<const uint8_t **>(frame_->extended_data), frame_->nb_samples) : 0;
      // stamped with the frame's time: swresample's own delay is a few input samples
      Add(static_cast<double>(ft) * tb_, chunk_.data(), n);
    }
    f.av_frame_unref(frame_);
  }
}

std::vector<AudioRun> LiveAudio::Take() {
  std::vector<AudioRun> out;
  out.swap(runs_);
  return out;
}

}  // namespace vidlm
