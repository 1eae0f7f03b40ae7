#include "subtitles.h"

#include <cmath>

namespace vidlm {

std::string AssDialogueText(const std::string & ass) {
  // skip the 8 fields before Text (Text itself may hold commas)
  size_t pos = 0;
  for (int i = 0; i < 8 && pos != std::string::npos; i++) {
    pos = ass.find(',', pos);
    if (pos != std::string::npos) pos++;
  }
  const std::string text = pos == std::string::npos ? ass : ass.substr(pos);
  std::string out;
  for (size_t i = 0; i < text.size(); i++) {
    const char c = text[i];
    if (c == '{') {  // an override block {\i1}; a lone '{' stays
      const size_t close = text.find('}', i);
      if (close != std::string::npos && i + 1 < text.size() && text[i + 1] == '\\') { i = close; continue; }
    }
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == 'N' || text[i + 1] == 'n')) { out += '\n'; i++; continue; }
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == 'h') { out += ' '; i++; continue; }
    if (c == '\r') continue;
    out += c;
  }
  // trim
  const size_t b = out.find_first_not_of(" \n\t");
  if (b == std::string::npos) return "";
  const size_t e = out.find_last_not_of(" \n\t");
  return out.substr(b, e - b + 1);
}

bool ExtractSubtitles(Demuxer & dm, int stream, double origin, SubtitleResult & out, VideoError & err) {
  const FFmpeg & f = ff();
  AVStream * st = dm.ctx()->streams[stream];
  if (st->codecpar->codec_type != AVMEDIA_TYPE_SUBTITLE) { err = {"ERR_INVALID_ARG", "not-subtitle", "the stream is not a subtitle stream", ""}; return false; }
  const double tb = av_q2d(st->time_base);
  const AVCodec * codec = f.avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec) { err = {"ERR_VIDEO_DECODE", "unsupported-codec", "vidlm's FFmpeg has no decoder for this subtitle codec (text formats only)", ""}; return false; }
  AVCodecContext * dec = f.avcodec_alloc_context3(codec);
  f.avcodec_parameters_to_context(dec, st->codecpar);
  dec->pkt_timebase = st->time_base;
  if (int ret = f.avcodec_open2(dec, codec, nullptr); ret < 0) {
    f.avcodec_free_context(&dec);
    err = {"ERR_VIDEO_DECODE", "decoder", "cannot open the subtitle decoder: " + AvError(ret), AvError(ret)};
    return false;
  }
  dm.Only(stream);
  f.av_seek_frame(dm.ctx(), stream, st->start_time != AV_NOPTS_VALUE ? st->start_time : 0, AVSEEK_FLAG_BACKWARD);
  AVPacket * pkt = f.av_packet_alloc();
  bool ok = true;
  for (;;) {
    if (dm.Cancelled()) { err = dm.ReadError(AVERROR_EXIT, "read"); ok = false; break; }
    int ret = 0;
    if (!dm.ReadPacket(pkt, stream, ret)) {
      if (ret != AVERROR_EOF && ret != AVERROR_INVALIDDATA) {
        VideoError e = dm.ReadError(ret, "read");
        if (e.code != "ERR_VIDEO_DECODE") { err = e; ok = false; }
      }
      break;
    }
    const int64_t pt = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    AVSubtitle sub{};
    int got = 0;
    if (f.avcodec_decode_subtitle2(dec, &sub, &got, pkt) < 0) {
      out.errors++;
    } else if (got) {
      const double base = (sub.pts != AV_NOPTS_VALUE ? sub.pts / 1e6 : pt != AV_NOPTS_VALUE ? pt * tb : 0) - origin;
      SubtitleCue cue;
      cue.start = base + sub.start_display_time / 1000.0;
      if (pkt->duration > 0) cue.end = (pt != AV_NOPTS_VALUE ? pt * tb - origin : base) + pkt->duration * tb;
      else if (sub.end_display_time != UINT32_MAX && sub.end_display_time > sub.start_display_time) cue.end = base + sub.end_display_time / 1000.0;
      else cue.end = -1;
      for (unsigned i = 0; i < sub.num_rects; i++) {
        const AVSubtitleRect * r = sub.rects[i];
        std::string t = r->ass ? AssDialogueText(r->ass) : r->text ? r->text : "";
        if (t.empty()) continue;
        if (!cue.text.empty()) cue.text += '\n';
        cue.text += t;
      }
      if (!cue.text.empty()) out.cues.push_back(std::move(cue));
      f.avsubtitle_free(&sub);
    }
    f.av_packet_unref(pkt);
  }
  f.av_packet_free(&pkt);
  f.avcodec_free_context(&dec);
  return ok;
}

}  // namespace vidlm
