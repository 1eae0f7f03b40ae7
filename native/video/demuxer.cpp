#include "demuxer.h"

#include <algorithm>
#include <cstring>

namespace vidlm {

int Demuxer::OnInterrupt(void * self) {
  auto * d = static_cast<Demuxer *>(self);
  if (d->closed_->load(std::memory_order_relaxed) || IsAborted(d->call_abort_)) return 1;
  const int64_t deadline = d->deadline_us_.load(std::memory_order_relaxed);
  if (deadline == 0) return 0;
  // data still arriving (a long probe, a slow but live stream): the deadline moves on
  if (d->fmt_ && d->fmt_->pb && d->fmt_->pb->bytes_read != d->bytes_seen_) {
    d->bytes_seen_ = d->fmt_->pb->bytes_read;
    d->ArmDeadline();
    return 0;
  }
  return NowUs() > deadline ? 1 : 0;
}

int Demuxer::ReadBytes(void * self, uint8_t * buf, int size) {
  auto * d = static_cast<Demuxer *>(self);
  const auto & b = d->params_.bytes;
  if (d->pos_ >= b.size()) return AVERROR_EOF;
  const size_t n = std::min(static_cast<size_t>(size), b.size() - d->pos_);
  std::memcpy(buf, b.data() + d->pos_, n);
  d->pos_ += n;
  return static_cast<int>(n);
}

int64_t Demuxer::SeekBytes(void * self, int64_t offset, int whence) {
  auto * d = static_cast<Demuxer *>(self);
  const int64_t size = static_cast<int64_t>(d->params_.bytes.size());
  if (whence & AVSEEK_SIZE) return size;
  int64_t to;
  switch (whence & ~AVSEEK_FORCE) {
    case SEEK_SET: to = offset; break;
    case SEEK_CUR: to = static_cast<int64_t>(d->pos_) + offset; break;
    case SEEK_END: to = size + offset; break;
    default: return AVERROR(EINVAL);
  }
  if (to < 0) return AVERROR(EINVAL);
  d->pos_ = static_cast<size_t>(std::min(to, size));
  return to;
}

static std::string Reason(int ret) {
  if (ret == AVERROR(ENOENT)) return "not-found";
  if (ret == AVERROR(EACCES) || ret == AVERROR(EPERM)) return "permission";
  if (ret == AVERROR_INVALIDDATA || ret == AVERROR_DECODER_NOT_FOUND || ret == AVERROR_DEMUXER_NOT_FOUND) return "not-media";
  if (ret == AVERROR(ECONNREFUSED) || ret == AVERROR(EHOSTUNREACH) || ret == AVERROR(ENETUNREACH)) return "unreachable";
  if (ret == AVERROR_HTTP_NOT_FOUND || ret == AVERROR_HTTP_FORBIDDEN || ret == AVERROR_HTTP_BAD_REQUEST ||
      ret == AVERROR_HTTP_OTHER_4XX || ret == AVERROR_HTTP_SERVER_ERROR || ret == AVERROR_HTTP_UNAUTHORIZED) return "http-error";
  if (ret == AVERROR_PROTOCOL_NOT_FOUND) return "protocol";
  return "open-failed";
}

VideoError Demuxer::ReadError(int ret, const char * stage) const {
  VideoError e;
  e.ffmpeg = AvError(ret);
  if (closed_->load()) { e.code = "ERR_DISPOSED"; e.reason = "closed"; e.message = "the source was closed"; return e; }
  if (IsAborted(call_abort_)) { e.code = "ERR_ABORTED"; e.reason = "aborted"; e.message = "aborted"; return e; }
  const int64_t deadline = deadline_us_.load();
  if (ret == AVERROR(ETIMEDOUT) || ret == AVERROR_EXIT || (deadline != 0 && NowUs() > deadline)) {
    e.code = "ERR_VIDEO_TIMEOUT"; e.reason = "timeout";
    e.message = params_.display + ": no data for " + std::to_string(params_.timeoutUs / 1000000.0).substr(0, 4) + " s (" + e.ffmpeg + ")";
    return e;
  }
  e.code = "ERR_VIDEO_DECODE"; e.reason = stage;
  e.message = std::string(stage) + " failed for " + params_.display + ": " + e.ffmpeg;
  return e;
}

std::unique_ptr<Demuxer> Demuxer::Open(OpenParams params, const AbortFlag & abort, const std::atomic<bool> * closed, VideoError & err) {
  const FFmpeg & f = ff();
  std::unique_ptr<Demuxer> d(new Demuxer());
  d->params_ = std::move(params);
  d->call_abort_ = abort;
  d->closed_ = closed;
  const OpenParams & p = d->params_;
  d->fmt_ = f.avformat_alloc_context();
  if (!d->fmt_) { err = {"ERR_VIDEO_OPEN", "open-failed", "out of memory", ""}; return nullptr; }
  d->fmt_->interrupt_callback = {&Demuxer::OnInterrupt, d.get()};
  if (!p.bytes.empty()) {
    constexpr int kChunk = 1 << 16;
    auto * buf = static_cast<uint8_t *>(f.av_malloc(kChunk));
    d->avio_ = f.avio_alloc_context(buf, kChunk, 0, d.get(), &Demuxer::ReadBytes, nullptr, &Demuxer::SeekBytes);
    if (!d->avio_) { f.av_free(buf); err = {"ERR_VIDEO_OPEN", "open-failed", "out of memory", ""}; return nullptr; }
    d->fmt_->pb = d->avio_;
    d->fmt_->flags |= AVFMT_FLAG_CUSTOM_IO;
  }
  const AVInputFormat * iformat = nullptr;
  if (!p.format.empty()) {
    iformat = f.av_find_input_format(p.format.c_str());
    if (!iformat) { err = {"ERR_VIDEO_OPEN", "format", "unknown input format '" + p.format + "'", ""}; return nullptr; }
  }
  AVDictionary * opts = nullptr;
  for (const auto & [k, v] : p.options) f.av_dict_set(&opts, k.c_str(), v.c_str(), 0);
  d->ArmDeadline();
  AVFormatContext * fmt = d->fmt_;
  int ret = f.avformat_open_input(&fmt, p.bytes.empty() ? p.url.c_str() : "", iformat, &opts);
  if (ret < 0) {
    d->fmt_ = nullptr;  // freed by avformat_open_input on failure
    f.av_dict_free(&opts);
    err = d->ReadError(ret, "open");
    if (err.code == "ERR_VIDEO_DECODE") {
      err.code = "ERR_VIDEO_OPEN";
      err.reason = Reason(ret);
      err.message = "cannot open " + p.display + ": " + err.ffmpeg;
    } else if (err.code == "ERR_VIDEO_TIMEOUT") {
      err.message = p.display + " did not open within " + std::to_string(p.timeoutUs / 1000000.0).substr(0, 4) + " s (" + err.ffmpeg + ")";
    }
    return nullptr;
  }
  // an option nothing consumed (a typo in ffmpegOptions) is an error, not a silent no-op
  if (opts && f.av_dict_count(opts) > 0) {
    std::string left;
    for (const AVDictionaryEntry * e = nullptr; (e = f.av_dict_get(opts, "", e, AV_DICT_IGNORE_SUFFIX));) left += (left.empty() ? "" : ", ") + std::string(e->key);
    f.av_dict_free(&opts);
    err = {"ERR_INVALID_ARG", "option", "FFmpeg did not use the option(s) " + left + " for " + p.display, ""};
    return nullptr;
  }
  f.av_dict_free(&opts);
  d->ArmDeadline();
  ret = f.avformat_find_stream_info(fmt, nullptr);
  if (ret < 0) {
    err = d->ReadError(ret, "open");
    if (err.code == "ERR_VIDEO_DECODE") { err.code = "ERR_VIDEO_OPEN"; err.reason = "not-media"; err.message = "cannot open " + p.display + ": " + err.ffmpeg; }
    return nullptr;
  }
  d->CollectInfo();
  // absurd headers are refused before anything is allocated for them
  for (const StreamInfo & s : d->info_.streams) {
    if (s.type != "video" || s.attachedPic) continue;
    const int64_t px = static_cast<int64_t>(s.width) * s.height;
    if (p.maxPixels > 0 && px > p.maxPixels) {
      err = {"ERR_VIDEO_TOO_LARGE", "too-large", p.display + ": " + std::to_string(s.width) + "x" + std::to_string(s.height) +
             " pictures exceed maxPixels (" + std::to_string(p.maxPixels) + ")", ""};
      return nullptr;
    }
  }
  return d;
}

void Demuxer::CollectInfo() {
  const FFmpeg & f = ff();
  info_.format = fmt_->iformat ? fmt_->iformat->name : "unknown";
  if (fmt_->duration != AV_NOPTS_VALUE && fmt_->duration > 0) info_.duration = fmt_->duration / 1e6;
  if (fmt_->start_time != AV_NOPTS_VALUE) info_.startTime = fmt_->start_time / 1e6;
  info_.bitRate = fmt_->bit_rate;
  info_.fileSize = !params_.bytes.empty() ? static_cast<int64_t>(params_.bytes.size()) : -1;
  for (unsigned i = 0; i < fmt_->nb_streams; i++) {
    const AVStream * st = fmt_->streams[i];
    const AVCodecParameters * cp = st->codecpar;
    StreamInfo s;
    s.index = st->index;
    s.type = cp->codec_type == AVMEDIA_TYPE_VIDEO ? "video" : cp->codec_type == AVMEDIA_TYPE_AUDIO ? "audio"
             : cp->codec_type == AVMEDIA_TYPE_SUBTITLE ? "subtitle" : "other";
    if (const AVDictionaryEntry * e = f.av_dict_get(st->metadata, "language", nullptr, 0)) s.language = e->value;
    if (const AVDictionaryEntry * e = f.av_dict_get(st->metadata, "title", nullptr, 0)) s.title = e->value;
    const AVCodecDescriptor * cd = f.avcodec_descriptor_get(cp->codec_id);
    s.codec = cd ? cd->name : "unknown";
    if (const char * prof = f.avcodec_profile_name(cp->codec_id, cp->profile)) s.profile = prof;
    s.timeBase = st->time_base;
    if (st->start_time != AV_NOPTS_VALUE) s.startTime = st->start_time;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0) s.duration = st->duration;
    s.nbFrames = st->nb_frames;
    s.isDefault = st->disposition & AV_DISPOSITION_DEFAULT;
    s.attachedPic = st->disposition & AV_DISPOSITION_ATTACHED_PIC;
    s.decodable = f.avcodec_find_decoder(cp->codec_id) != nullptr;
    if (cp->codec_type == AVMEDIA_TYPE_VIDEO) {
      s.width = cp->width;
      s.height = cp->height;
      s.sar = st->sample_aspect_ratio.num ? st->sample_aspect_ratio : cp->sample_aspect_ratio;
      s.avgFps = st->avg_frame_rate;
      s.rFps = st->r_frame_rate;
      if (const char * n = f.av_get_pix_fmt_name(static_cast<AVPixelFormat>(cp->format))) s.pixFmt = n;
      const AVPixFmtDescriptor * pd = f.av_pix_fmt_desc_get(static_cast<AVPixelFormat>(cp->format));
      s.bitDepth = pd ? pd->comp[0].depth : (cp->bits_per_raw_sample > 0 ? cp->bits_per_raw_sample : 8);
      const AVPacketSideData * sd = f.av_packet_side_data_get(cp->coded_side_data, cp->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
      if (sd && sd->size >= 36) {
        const auto * m = reinterpret_cast<const int32_t *>(sd->data);
        s.displayMatrix = std::vector<int32_t>(m, m + 9);
      }
    } else if (cp->codec_type == AVMEDIA_TYPE_AUDIO) {
      s.sampleRate = cp->sample_rate;
      s.channels = cp->ch_layout.nb_channels;
      char buf[128] = {0};
      if (f.av_channel_layout_describe(&cp->ch_layout, buf, sizeof buf) > 0) s.channelLayout = buf;
      if (const char * n = f.av_get_sample_fmt_name(static_cast<AVSampleFormat>(cp->format))) s.sampleFmt = n;
    }
    info_.streams.push_back(std::move(s));
  }
}

bool Demuxer::Rewind(int stream) {
  const FFmpeg & f = ff();
  const AVStream * st = fmt_->streams[stream];
  const int64_t start = st->start_time == AV_NOPTS_VALUE ? 0 : st->start_time;
  const int64_t second = f.av_rescale_q(1, AVRational{1, 1}, st->time_base);
  if (f.av_seek_frame(fmt_, stream, start - second, AVSEEK_FLAG_BACKWARD) >= 0) return true;
  if (f.av_seek_frame(fmt_, stream, start, AVSEEK_FLAG_BACKWARD) >= 0) return true;
  return !(fmt_->iformat->flags & AVFMT_NO_BYTE_SEEK) && f.av_seek_frame(fmt_, -1, 0, AVSEEK_FLAG_BYTE) >= 0;
}

void Demuxer::Only(int stream) {
  for (unsigned i = 0; i < fmt_->nb_streams; i++) {
    const bool read = static_cast<int>(i) == stream || (side_ && static_cast<int>(i) == side_stream_);
    fmt_->streams[i]->discard = read ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
  }
}

bool Demuxer::ReadPacket(AVPacket * pkt, int stream, int & ret) {
  for (;;) {
    ArmDeadline();
    ret = ff().av_read_frame(fmt_, pkt);
    if (ret < 0) return false;
    if (pkt->stream_index == stream) return true;
    const bool yield = side_ && pkt->stream_index == side_stream_ && side_(pkt);
    ff().av_packet_unref(pkt);
    if (yield) { ret = kSideYield; return false; }
  }
}

Demuxer::~Demuxer() {
  const FFmpeg & f = ff();
  if (fmt_) f.avformat_close_input(&fmt_);
  if (avio_) {
    f.av_free(avio_->buffer);
    f.avio_context_free(&avio_);
  }
}

}  // namespace vidlm
