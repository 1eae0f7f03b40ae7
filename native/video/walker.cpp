#include "walker.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace vidlm {

static std::optional<int64_t> PacketTime(const AVPacket * p) {
  if (p->pts != AV_NOPTS_VALUE) return p->pts;
  if (p->dts != AV_NOPTS_VALUE) return p->dts;
  return std::nullopt;
}

Walker::Walker(Demuxer & dm, int stream, int threads, int64_t maxPixels)
    : dm_(dm), stream_(stream), threads_(threads), maxPixels_(maxPixels) {
  tb_ = dm.ctx()->streams[stream]->time_base;
  tps_ = tb_.num > 0 ? static_cast<double>(tb_.den) / tb_.num : 1.0;
  indexDts_ = dm.ctx()->iformat && std::strcmp(dm.ctx()->iformat->name, "avi") == 0;
}

Walker::~Walker() {
  const FFmpeg & f = ff();
  ClearPending();
  for (Item & i : out_) f.av_frame_free(&i.f);
  f.av_frame_free(&last_.f);
  f.av_frame_free(&scratch_);
  f.avcodec_free_context(&dec_);
}

void Walker::Restart() {
  // the decoder may hold frames of the last walk: drop them (cheaper than a new decoder)
  if (dec_) ff().avcodec_flush_buffers(dec_);
  maxSent_.reset();
  lastOut_.reset();
  gopKey_.reset();
  lastRead_.reset();
  lastReadDts_.reset();
  eof_ = false;
  ClearPending();
  for (Item & i : out_) ff().av_frame_free(&i.f);
  out_.clear();
  ff().av_frame_free(&last_.f);
  last_ = {0, nullptr};
}

void Walker::ClearPending() {
  for (AVPacket *& p : pending_) ff().av_packet_free(&p);
  pending_.clear();
}

int64_t Walker::StreamStart() const {
  const int64_t s = dm_.ctx()->streams[stream_]->start_time;
  return s == AV_NOPTS_VALUE ? 0 : s;
}

bool Walker::OpenDecoder(VideoError & err) {
  const FFmpeg & f = ff();
  const AVCodecParameters * cp = dm_.ctx()->streams[stream_]->codecpar;
  const AVCodec * codec = f.avcodec_find_decoder(cp->codec_id);
  if (!codec) {
    const AVCodecDescriptor * d = f.avcodec_descriptor_get(cp->codec_id);
    err = {"ERR_VIDEO_DECODE", "unsupported-codec", std::string("vidlm's FFmpeg has no decoder for ") + (d ? d->name : "this codec") + " video", ""};
    return false;
  }
  dec_ = f.avcodec_alloc_context3(codec);
  if (!dec_ || f.avcodec_parameters_to_context(dec_, cp) < 0) { err = {"ERR_VIDEO_DECODE", "decoder", "cannot set up the decoder", ""}; return false; }
  dec_->pkt_timebase = tb_;
  dec_->thread_count = threads_;  // 0: FFmpeg's automatic count
  dec_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  if (maxPixels_ > 0) dec_->max_pixels = maxPixels_;  // FFmpeg refuses larger pictures before allocating them
  const int ret = f.avcodec_open2(dec_, codec, nullptr);
  if (ret < 0) {
    f.avcodec_free_context(&dec_);
    err = {"ERR_VIDEO_DECODE", "decoder", std::string("cannot open the ") + codec->name + " decoder: " + AvError(ret), AvError(ret)};
    return false;
  }
  maxSent_.reset();
  lastOut_.reset();
  return true;
}

bool Walker::Read(AVPacket *& out, VideoError & err) {
  AVPacket * p = ff().av_packet_alloc();
  int ret = 0;
  if (!dm_.ReadPacket(p, stream_, ret)) {
    ff().av_packet_free(&p);
    if (ret == AVERROR_EOF) { out = nullptr; return true; }
    // the side stream's sink asked the read to return (no error: the caller sees `err` unset)
    if (ret == Demuxer::kSideYield) { err = {"", "yield", "", ""}; return false; }
    err = dm_.ReadError(ret, "read");
    // a damaged file: FFmpeg's own word for it; treated as the end where the stream is local
    if (err.code == "ERR_VIDEO_DECODE" && ret == AVERROR_INVALIDDATA) { out = nullptr; return true; }
    return false;
  }
  stats_.packetsRead++;
  out = p;
  return true;
}

// One frame in stream ticks (one in an AVI): the frame's own duration, else the nominal rate's.
int64_t Walker::FrameTicks(const AVFrame * f) const {
  if (f && f->duration > 0) return f->duration;
  const AVRational fps = dm_.ctx()->streams[stream_]->avg_frame_rate;
  const int64_t d = fps.num > 0 && fps.den > 0 ? ff().av_rescale_q(1, AVRational{fps.den, fps.num}, tb_) : 0;
  return d > 0 ? d : 1;
}

// A frame's presentation time. AVI stores no presentation times: a chunk's only timestamp is
// its index in decode order, which libavformat hands out as dts (and copies to pts where it
// guesses no reordering, e.g. B-frames). A decoded frame carries the dts of the packet that made
// the decoder output it, which with B-frames comes has_b_frames packets after the frame's own,
// so best_effort_timestamp is that many frames late (the ffmpeg program shows AVI frames so);
// the frame's own time is that dts as many frames back. Frames flushed at the end have no
// packet: one frame after the last. Other containers store real timestamps.
int64_t Walker::FrameTime(const AVFrame * f) {
  int64_t t;
  if (!indexDts_) {
    if (f->best_effort_timestamp != AV_NOPTS_VALUE) t = f->best_effort_timestamp;
    else if (f->pts != AV_NOPTS_VALUE) t = f->pts;
    // no time (MPEG-PS: the last frame flushed out, its packet had only a dts): after the last one out
    else if (lastOut_) t = *lastOut_ + FrameTicks(f);
    else t = synthetic_++;
    lastOut_ = t;
    return t;
  }
  if (f->pkt_dts != AV_NOPTS_VALUE) t = f->pkt_dts - static_cast<int64_t>(dec_ ? dec_->has_b_frames : 0) * FrameTicks(f);
  else if (lastOut_) t = *lastOut_ + FrameTicks(f);
  else t = synthetic_++;
  lastOut_ = t;
  if ((f->flags & AV_FRAME_FLAG_KEY) && keySent_) keyLead_ = std::max(keyLead_, t - *keySent_);
  return t;
}

void Walker::AddFrame(AVFrame * f, int64_t target) {
  const int64_t t = FrameTime(f);
  stats_.framesDecoded++;
  if (!last_.f || t >= last_.t) {
    // the latest frame so far (a reference, not a copy): a target past the end gets it
    ff().av_frame_free(&last_.f);
    last_ = {t, ff().av_frame_clone(f)};
  }
  if (t < target) return;
  AVFrame * keep = ff().av_frame_clone(f);
  if (!keep) return;
  auto it = out_.end();
  while (it != out_.begin() && std::prev(it)->t > t) --it;
  out_.insert(it, Item{t, keep});
}

void Walker::Receive(int64_t target) {
  const FFmpeg & f = ff();
  if (!scratch_) scratch_ = f.av_frame_alloc();
  for (;;) {
    const int ret = f.avcodec_receive_frame(dec_, scratch_);
    if (ret < 0) break;
    if (scratch_->width > 0 && scratch_->format >= 0) AddFrame(scratch_, target);
    f.av_frame_unref(scratch_);
  }
}

bool Walker::Send(std::vector<AVPacket *> & packets, int64_t target, VideoError & err) {
  const FFmpeg & f = ff();
  if (!dec_ && !OpenDecoder(err)) return false;
  for (AVPacket *& p : packets) {
    if (dm_.Cancelled()) {
      err = dm_.ReadError(AVERROR_EXIT, "decode");
      for (AVPacket *& q : packets) f.av_packet_free(&q);
      packets.clear();
      return false;
    }
    const auto pt = PacketTime(p);
    if (pt && (!maxSent_ || *pt > *maxSent_)) maxSent_ = pt;
    if ((p->flags & AV_PKT_FLAG_KEY) && p->dts != AV_NOPTS_VALUE) keySent_ = p->dts;
    dec_->skip_frame = pt && *pt < target && !(p->flags & AV_PKT_FLAG_KEY) ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
    int ret = f.avcodec_send_packet(dec_, p);
    if (ret == AVERROR(EAGAIN)) {
      Receive(target);
      ret = f.avcodec_send_packet(dec_, p);
    }
    if (ret < 0 && ret != AVERROR(EAGAIN)) stats_.decodeErrors++;  // FFmpeg conceals what it can, as the ffmpeg program does
    else stats_.packetsDecoded++;
    Receive(target);
    f.av_packet_free(&p);
    if (stats_.decodeErrors > 50 && stats_.framesDecoded == 0) {
      err = {"ERR_VIDEO_DECODE", "undecodable", dm_.params().display + ": the video stream cannot be decoded (" + std::to_string(stats_.decodeErrors) + " packets failed)", ""};
      for (AVPacket *& q : packets) f.av_packet_free(&q);
      packets.clear();
      return false;
    }
  }
  packets.clear();
  return true;
}

bool Walker::Flush(int64_t target) {
  if (!dec_) return true;
  ff().avcodec_send_packet(dec_, nullptr);
  dec_->skip_frame = AVDISCARD_DEFAULT;
  Receive(target);
  ff().avcodec_free_context(&dec_);
  maxSent_.reset();
  return true;
}

void Walker::ResetChain(int64_t target) {
  // the packets up to the new GOP are skipped: flush the decoder (a frame of the old chain at or after
  // the target would be taken first; an H.264 open GOP decoded after the gap put pictures under other times)
  if (dec_ && maxSent_) {
    ff().avcodec_flush_buffers(dec_);
    maxSent_.reset();
    lastOut_.reset();
  }
  ClearPending();
  for (Item & i : out_) ff().av_frame_free(&i.f);
  out_.clear();
}

bool Walker::ShouldSeek(int64_t target, WalkStrategy s) const {
  if (!lastRead_) return true;  // the demuxer may be anywhere: position it
  if (s == WalkStrategy::Sequential) return false;
  const int64_t from = *lastRead_;
  if (target <= from) return false;
  if (s == WalkStrategy::Seek) return true;
  // reading a packet costs ~0.1 ms; seeking lands on the keyframe before the target. Seek when
  // the gap is longer than the known keyframe interval (and than 2 s).
  return static_cast<double>(target - from) > std::max(2 * tps_, 1.5 * static_cast<double>(maxKeyGap_));
}

void Walker::ConsumeRead(const AVPacket * p) {
  if (const auto pt = PacketTime(p)) lastRead_ = pt;
  if (p->dts != AV_NOPTS_VALUE) lastReadDts_ = p->dts;
}

// How far after its timestamp an AVI keyframe may be shown: at least the reorder delay, and
// as much as a keyframe decoded so far was (FrameTime learns it).
int64_t Walker::KeyLead() const {
  if (!indexDts_) return 0;
  const int delay = std::max(dm_.ctx()->streams[stream_]->codecpar->video_delay, dec_ ? dec_->has_b_frames : 0);
  return std::max(static_cast<int64_t>(delay) * FrameTicks(nullptr), keyLead_);
}

bool Walker::SeekTo(int64_t target, WalkStrategy s, VideoError & err) {
  const FFmpeg & f = ff();
  stats_.seeks++;
  if (s == WalkStrategy::Sequential) target = StreamStart();
  // the keyframe to start from must be shown at or before the target; an AVI keyframe's
  // timestamp is its decode position, up to the reorder delay before it is shown (the B-frames
  // of an open GOP come after it)
  const int64_t key = target - KeyLead();
  // at the start, Rewind (MPEG-TS/PS seek by dts: a seek to the first frame's pts lands after it);
  // some demuxers cannot seek before the first keyframe: start over
  bool rewound = key <= StreamStart();
  if (rewound ? !dm_.Rewind(stream_) : f.av_seek_frame(dm_.ctx(), stream_, key, AVSEEK_FLAG_BACKWARD) < 0) {
    rewound = true;
    if (!dm_.Rewind(stream_) && dm_.closed()) { err = dm_.ReadError(AVERROR_EXIT, "seek"); return false; }
  }
  eof_ = false;
  int attempt = 0;
  auto back = [&]() {  // further back: 20 s, 40 s … before the keyframe asked for, the stream's start at the last
    attempt++;
    const double to = attempt == 6 ? -INFINITY : static_cast<double>(key) - 10 * tps_ * std::pow(2, attempt);
    if (to <= static_cast<double>(StreamStart())) { rewound = true; dm_.Rewind(stream_); }
    else f.av_seek_frame(dm_.ctx(), stream_, static_cast<int64_t>(std::floor(to)), AVSEEK_FLAG_BACKWARD);
  };
  for (;;) {
    AVPacket * p = nullptr;
    if (!Read(p, err)) return false;
    // no keyframe after where the seek landed (a seek by dts lands after the keyframe it asked for; the last GOP)
    if (!p && !rewound && attempt < 6) { back(); continue; }
    if (!p) return EndOfStream(target, err);
    if (!(p->flags & AV_PKT_FLAG_KEY)) { f.av_packet_free(&p); continue; }
    const auto pt = PacketTime(p);
    if (pt && *pt > key && *pt > StreamStart() && !rewound && attempt < 6) {
      // landed past the target (an inexact index, a seek by dts): go further back, unless this is
      // the stream's first packet (nothing lies before it; an image2 still cannot even seek back)
      f.av_packet_free(&p);
      back();
      continue;
    }
    if (dec_ && pt && gopKey_ && *pt == *gopKey_) {
      // back in the GOP being decoded: skip what was already read, keep the decoder
      if (lastReadDts_) {
        while (p && p->dts != AV_NOPTS_VALUE && p->dts <= *lastReadDts_) {
          f.av_packet_free(&p);
          if (!Read(p, err)) return false;
        }
        if (!p) return EndOfStream(target, err);
        ConsumeRead(p);
        pending_.push_back(p);
      } else {
        f.av_packet_free(&p);
      }
      return true;
    }
    ResetChain(target);
    gopKey_ = pt;
    prevKey_ = pt;  // keyframe intervals are measured from here on
    ConsumeRead(p);
    pending_.push_back(p);
    return true;
  }
}

bool Walker::EndOfStream(int64_t target, VideoError & err) {
  eof_ = true;
  if (!pending_.empty()) {
    std::vector<AVPacket *> pk;
    pk.swap(pending_);
    if (!Send(pk, target, err)) return false;
  }
  return Flush(target);
}

std::optional<Walker::Item> Walker::TakeAtOrAfter(int64_t target) {
  while (!out_.empty() && out_.front().t < target) {
    ff().av_frame_free(&out_.front().f);
    out_.pop_front();
  }
  if (out_.empty()) return std::nullopt;
  return out_.front();
}

bool Walker::FrameAt(int64_t target, WalkStrategy strategy, Hit & hit, VideoError & err) {
  for (int attempt = 0;; attempt++) {
    if (!FrameAtOnce(target, strategy, hit, err)) return false;
    // An AVI has a frame at every tick: one past the target means the target's frame was
    // not decodable from the keyframe the walk started at (an open GOP's keyframe is shown after
    // B-frames stored behind it). Start over from an earlier one: KeyLead() has learned how far.
    if (!indexDts_ || attempt == 2 || !hit.frame || hit.clamped || hit.t <= target || target <= StreamStart()) return true;
    Restart();
  }
}

bool Walker::FrameAtOnce(int64_t target, WalkStrategy strategy, Hit & hit, VideoError & err) {
  hit = Hit{};
  if (auto h = TakeAtOrAfter(target)) { hit = {h->t, h->f, false}; return true; }
  if (!eof_ && ShouldSeek(target, strategy) && !SeekTo(target, strategy, err)) return false;
  bool armed = false;
  while (!eof_) {
    if (auto h = TakeAtOrAfter(target)) { hit = {h->t, h->f, false}; return true; }
    if (dm_.closed()) { err = dm_.ReadError(AVERROR_EXIT, "read"); return false; }
    AVPacket * p = nullptr;
    if (!Read(p, err)) return false;
    if (!p) { if (!EndOfStream(target, err)) return false; break; }
    const auto pt = PacketTime(p);
    if ((p->flags & AV_PKT_FLAG_KEY) && pt) {
      if (prevKey_ && *pt > *prevKey_) maxKeyGap_ = std::max(maxKeyGap_, *pt - *prevKey_);
      prevKey_ = pt;
      if (!armed && *pt + KeyLead() <= target) {
        // a new GOP starts before the target: nothing read or decoded so far is needed
        ResetChain(target);
        gopKey_ = pt;
      }
    }
    ConsumeRead(p);
    pending_.push_back(p);
    if (armed || !pt || *pt >= target) {
      armed = true;
      std::vector<AVPacket *> pk;
      pk.swap(pending_);
      if (!Send(pk, target, err)) return false;
    }
  }
  if (auto h = TakeAtOrAfter(target)) { hit = {h->t, h->f, false}; return true; }
  if (last_.f) hit = {last_.t, last_.f, true};
  return true;
}

bool Walker::NextLive(std::optional<int64_t> minT, Hit & hit, VideoError & err) {
  hit = Hit{};
  const int64_t target = minT.value_or(INT64_MIN);
  const FFmpeg & f = ff();
  for (;;) {
    if (auto h = TakeAtOrAfter(target)) {
      // hand it over and forget it: the next call asks for a later time
      hit = {h->t, h->f, false};
      f.av_frame_free(&last_.f);
      last_ = {h->t, h->f};
      out_.pop_front();
      return true;
    }
    AVPacket * p = nullptr;
    if (!Read(p, err)) return false;
    if (!p) return true;  // the stream ended
    if (!dec_ && !OpenDecoder(err)) { f.av_packet_free(&p); return false; }
    const auto pt = PacketTime(p);
    // frames before the next sampling time are not kept: skip decoding the disposable ones
    const bool skip = minT && pt && *pt < target && !(p->flags & AV_PKT_FLAG_KEY);
    dec_->skip_frame = skip ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
    int ret = f.avcodec_send_packet(dec_, p);
    if (ret == AVERROR(EAGAIN)) { Receive(target); ret = f.avcodec_send_packet(dec_, p); }
    f.av_packet_free(&p);
    if (ret < 0) { stats_.decodeErrors++; continue; }  // joining mid-stream: packets before the first keyframe fail
    stats_.packetsDecoded++;
    Receive(target);
  }
}

}  // namespace vidlm
