#include "audio.h"

#include "resampler.h"

#include <cmath>
#include <cstring>

namespace vidlm {

bool ExtractAudio(Demuxer & dm, const AudioRequest & req, std::vector<float> & pcm, VideoError & err) {
  const FFmpeg & f = ff();
  AVStream * st = dm.ctx()->streams[req.stream];
  const double tb = av_q2d(st->time_base);
  const int64_t total = static_cast<int64_t>(std::llround((req.end - req.start) * req.rate));
  pcm.assign(static_cast<size_t>(std::max<int64_t>(0, total)) * req.channels, 0.0f);
  dm.Only(req.stream);
  // a second of pre-roll for codecs with priming
  const double seekTo = std::max(0.0, req.start - 1) + req.origin;
  f.av_seek_frame(dm.ctx(), req.stream, static_cast<int64_t>(std::floor(seekTo / tb)), AVSEEK_FLAG_BACKWARD);

  const AVCodec * codec = f.avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec) { err = {"ERR_VIDEO_DECODE", "unsupported-codec", "vidlm's FFmpeg has no decoder for this audio codec", ""}; return false; }
  AVCodecContext * dec = f.avcodec_alloc_context3(codec);
  f.avcodec_parameters_to_context(dec, st->codecpar);
  dec->pkt_timebase = st->time_base;
  if (int ret = f.avcodec_open2(dec, codec, nullptr); ret < 0) {
    f.avcodec_free_context(&dec);
    err = {"ERR_VIDEO_DECODE", "decoder", "cannot open the audio decoder: " + AvError(ret), AvError(ret)};
    return false;
  }
  AVPacket * pkt = f.av_packet_alloc();
  AVFrame * frame = f.av_frame_alloc();
  Resampler rs;
  std::vector<float> chunk;
  int64_t pos = 0;          // output sample index of the resampler's next sample
  bool anchored = false;
  int errors = 0, frames = 0;
  const double first = req.start + req.origin;  // stream seconds of pcm[0]

  auto place = [&](int n) {
    for (int64_t i = 0; i < n; i++) {
      const int64_t at = pos + i;
      if (at >= 0 && at < total) std::memcpy(&pcm[static_cast<size_t>(at) * req.channels], &chunk[static_cast<size_t>(i) * req.channels], sizeof(float) * req.channels);
    }
    pos += n;
  };
  auto convert = [&](const AVFrame * in) {
    const int cap = f.swr_get_out_samples(rs.swr, in ? in->nb_samples : 0) + 32;
    if (cap <= 0) return;
    chunk.resize(static_cast<size_t>(cap) * req.channels);
    uint8_t * out[1] = {reinterpret_cast<uint8_t *>(chunk.data())};
    const int n = f.swr_convert(rs.swr, out, cap, in ? const_cast<const uint8_t **>(in->extended_data) : nullptr, in ? in->nb_samples : 0);
    if (n > 0) place(n);
  };
  auto drain = [&]() {
    while (f.avcodec_receive_frame(dec, frame) >= 0) {
      frames++;
      const int64_t ft = frame->best_effort_timestamp != AV_NOPTS_VALUE ? frame->best_effort_timestamp : frame->pts;
      if (ft != AV_NOPTS_VALUE && frame->nb_samples > 0) {
        if (!rs.Matches(frame)) {
          if (rs.swr) convert(nullptr);  // what the old resampler still holds
          if (!rs.Init(frame, req.rate, req.channels)) { f.av_frame_unref(frame); continue; }
          anchored = false;
        }
        // on the timeline by timestamp; re-anchored after a gap or a jump of over 20 ms
        const int64_t expected = std::llround((ft * tb - first) * req.rate);
        if (!anchored || std::llabs(expected - pos) > req.rate / 50) { pos = expected; anchored = true; }
        convert(frame);
      }
      f.av_frame_unref(frame);
    }
  };
  bool ok = true;
  for (;;) {
    if (dm.Cancelled()) { err = dm.ReadError(AVERROR_EXIT, "read"); ok = false; break; }
    int ret = 0;
    if (!dm.ReadPacket(pkt, req.stream, ret)) {
      if (ret != AVERROR_EOF && ret != AVERROR_INVALIDDATA) {
        VideoError e = dm.ReadError(ret, "read");
        if (e.code != "ERR_VIDEO_DECODE") { err = e; ok = false; }
      }
      break;
    }
    const int64_t pt = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (pt != AV_NOPTS_VALUE && pt * tb - req.origin > req.end + 0.5) { f.av_packet_unref(pkt); break; }
    if (f.avcodec_send_packet(dec, pkt) < 0) {
      if (++errors > 50 && frames == 0) { err = {"ERR_VIDEO_DECODE", "decode", "the audio stream cannot be decoded", ""}; ok = false; f.av_packet_unref(pkt); break; }
    }
    f.av_packet_unref(pkt);
    drain();
  }
  if (ok) {
    f.avcodec_send_packet(dec, nullptr);
    drain();
    if (rs.swr) convert(nullptr);
  }
  f.av_packet_free(&pkt);
  f.av_frame_free(&frame);
  f.avcodec_free_context(&dec);
  return ok;
}

}  // namespace vidlm
