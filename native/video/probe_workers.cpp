// Packet-level reads without decoding: scan() (every packet's time, for the exact timeline of a
// variable-frame-rate or count-less file, with its size in bytes and keyframe flag: the codec's
// own measure of change, for lib/reduce's sampling plan) and hasPacket() (is a zero-length file empty?).
#include <algorithm>

#include "video_worker.h"

namespace vidlm {

namespace {


class ScanWorker : public VideoWorker {
 public:
  ScanWorker(Napi::Env env, std::shared_ptr<SourceState> s, AbortFlag a, int stream)
      : VideoWorker(env, "vidlm.video.scan", std::move(s), std::move(a)), stream_(stream) {}

 protected:
  void Work() override {
    if (state_->anim) {
      for (int64_t t : state_->anim->times()) pkts_.push_back({static_cast<double>(t), 0, 1});
      end_ = *state_->anim->Info().streams[0].duration;
      return;
    }
    const FFmpeg & f = ff();
    Demuxer & dm = *state_->demuxer;
    dm.Only(stream_);
    state_->walkers.erase(stream_);  // the read position moves under any walker
    dm.Rewind(stream_);
    AVPacket * p = f.av_packet_alloc();
    int ret = 0;
    std::vector<Read> reads;
    while (dm.ReadPacket(p, stream_, ret)) {
      // a packet an edit list hides (before an mp4's cut) is decoded for its references, never shown
      if (!(p->flags & AV_PKT_FLAG_DISCARD)) reads.push_back({p->pts, p->dts, p->duration, p->size, (p->flags & AV_PKT_FLAG_KEY) != 0});
      f.av_packet_unref(p);
    }
    // MPEG-PS/TS store a pts only where a PES starts (FFmpeg's parser leaves the B-frames of a
    // PES without one): a mix of pts and dts is no timeline. Where packets lack a pts but all
    // have a dts, the times are the dts moved by the reorder delay (pts - dts of the first that
    // has both): on a constant-rate stream the same set as the presentation times.
    const bool allPts = std::all_of(reads.begin(), reads.end(), [](const Read & r) { return r.pts != AV_NOPTS_VALUE; });
    const bool allDts = std::all_of(reads.begin(), reads.end(), [](const Read & r) { return r.dts != AV_NOPTS_VALUE; });
    int64_t shift = 0;
    for (const Read & r : reads) {
      if (r.pts != AV_NOPTS_VALUE && r.dts != AV_NOPTS_VALUE) { shift = r.pts - r.dts; break; }
    }
    for (const Read & r : reads) {
      const int64_t t = allPts ? r.pts : allDts ? r.dts + shift : r.pts != AV_NOPTS_VALUE ? r.pts : r.dts;
      if (t == AV_NOPTS_VALUE) { untimed_++; continue; }
      pkts_.push_back({static_cast<double>(t), static_cast<double>(r.size), static_cast<uint8_t>(r.key ? 1 : 0)});
      end_ = std::max(end_, static_cast<double>(t + (r.duration > 0 ? r.duration : 0)));
    }
    f.av_packet_free(&p);
    if (ret != AVERROR_EOF) {
      VideoError e = dm.ReadError(ret, "read");
      if (e.code != "ERR_VIDEO_DECODE") { verr_ = e; return; }
    }
    std::sort(pkts_.begin(), pkts_.end(), [](const Packet & a, const Packet & b) { return a.pts < b.pts; });
    dm.Rewind(stream_);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object r = Napi::Object::New(env);
    const size_t n = pkts_.size();
    Napi::Float64Array a = Napi::Float64Array::New(env, n);
    Napi::Float64Array sizes = Napi::Float64Array::New(env, n);
    Napi::Uint8Array keys = Napi::Uint8Array::New(env, n);
    for (size_t i = 0; i < n; i++) { a[i] = pkts_[i].pts; sizes[i] = pkts_[i].size; keys[i] = pkts_[i].key; }
    r.Set("pts", a);
    r.Set("sizes", sizes);
    r.Set("keys", keys);
    r.Set("end", end_);
    r.Set("untimed", static_cast<double>(untimed_));
    return r;
  }

 private:
  struct Packet { double pts; double size; uint8_t key; };
  struct Read { int64_t pts, dts, duration; int size; bool key; };
  int stream_;
  std::vector<Packet> pkts_;
  double end_ = 0;
  int64_t untimed_ = 0;  // packets with neither pts nor dts (a raw H.264/HEVC elementary stream)
};

// Whether the stream has any packet within its first `max` packets (zero-length files).
class HasPacketWorker : public VideoWorker {
 public:
  HasPacketWorker(Napi::Env env, std::shared_ptr<SourceState> s, AbortFlag a, int stream)
      : VideoWorker(env, "vidlm.video.hasPacket", std::move(s), std::move(a)), stream_(stream) {}

 protected:
  void Work() override {
    if (state_->anim) { found_ = true; return; }
    const FFmpeg & f = ff();
    Demuxer & dm = *state_->demuxer;
    AVPacket * p = f.av_packet_alloc();
    for (int k = 0; k < 1000 && f.av_read_frame(dm.ctx(), p) >= 0; k++) {
      const bool hit = p->stream_index == stream_;
      f.av_packet_unref(p);
      if (hit) { found_ = true; break; }
    }
    f.av_packet_free(&p);
    state_->walkers.erase(stream_);
    f.av_seek_frame(dm.ctx(), stream_, 0, AVSEEK_FLAG_BACKWARD);
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Boolean::New(env, found_); }

 private:
  int stream_;
  bool found_ = false;
};

}  // namespace

Napi::Value MediaSource::Scan(const Napi::CallbackInfo & info) {
  const int stream = StreamArg(info, *state_);
  return StartWorker<ScanWorker>(info.Env(), state_, AbortToken::From(info.Env(), info[1]), stream);
}

Napi::Value MediaSource::HasPacket(const Napi::CallbackInfo & info) {
  const int stream = StreamArg(info, *state_);
  return StartWorker<HasPacketWorker>(info.Env(), state_, AbortToken::From(info.Env(), info[1]), stream);
}

}  // namespace vidlm
