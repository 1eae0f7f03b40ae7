// Seek and decode: for each target time (stream ticks, ascending), the first frame whose
// presentation time is at or after it.
//
// Packets of the current GOP are held back until one reaches the target: a keyframe that comes
// first makes them useless, so they are dropped undecoded. Only the frames from the keyframe
// before a target up to the target are decoded, and of those the non-reference frames before
// the target are skipped (AVDISCARD_NONREF). A target far ahead is reached by seeking (to the
// keyframe before it), a near one by reading on, so dense plans decode sequentially and sparse
// plans seek. Pictures before a target are freed here and never reach JavaScript.
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "demuxer.h"

namespace vidlm {

struct WalkStats {
  int64_t seeks = 0, packetsRead = 0, packetsDecoded = 0, framesDecoded = 0, decodeErrors = 0;
};

enum class WalkStrategy { Auto, Seek, Sequential };

class Walker {
 public:
  Walker(Demuxer & dm, int stream, int threads, int64_t maxPixels);
  ~Walker();
  Walker(const Walker &) = delete;
  Walker & operator=(const Walker &) = delete;

  struct Hit {
    int64_t t = 0;
    const AVFrame * frame = nullptr;  // valid until the next call
    bool clamped = false;             // the target is past the end: the video's last frame
  };
  // The first frame at or after `target`; frame == nullptr when nothing could be decoded.
  // False with `err` set on a read failure, an abort or an undecodable stream.
  bool FrameAt(int64_t target, WalkStrategy strategy, Hit & hit, VideoError & err);
  // Live sources: reads on (never seeks) to the first frame at or after `minT` (any frame when
  // unset), skipping the decoding of disposable frames before it. frame == nullptr at the end.
  bool NextLive(std::optional<int64_t> minT, Hit & hit, VideoError & err);

  // A new walk (its targets may lie before this one's): the next target is reached by a seek.
  void Restart();

  int threads() const { return threads_; }
  WalkStats & stats() { return stats_; }

 private:
  struct Item { int64_t t; AVFrame * f; };

  bool Read(AVPacket *& out, VideoError & err);
  bool Send(std::vector<AVPacket *> & packets, int64_t target, VideoError & err);
  bool Flush(int64_t target);
  void Receive(int64_t target);
  void AddFrame(AVFrame * f, int64_t target);
  int64_t FrameTime(const AVFrame * f);
  int64_t FrameTicks(const AVFrame * f) const;
  int64_t KeyLead() const;
  bool FrameAtOnce(int64_t target, WalkStrategy strategy, Hit & hit, VideoError & err);
  void ResetChain(int64_t target);
  bool ShouldSeek(int64_t target, WalkStrategy s) const;
  bool SeekTo(int64_t target, WalkStrategy s, VideoError & err);
  bool EndOfStream(int64_t target, VideoError & err);
  void ConsumeRead(const AVPacket * p);
  std::optional<Item> TakeAtOrAfter(int64_t target);
  bool OpenDecoder(VideoError & err);
  void ClearPending();
  int64_t StreamStart() const;

  Demuxer & dm_;
  int stream_;
  int threads_;
  int64_t maxPixels_;
  AVRational tb_;
  double tps_;
  AVCodecContext * dec_ = nullptr;
  AVFrame * scratch_ = nullptr;
  std::vector<AVPacket *> pending_;
  std::deque<Item> out_;
  Item last_{0, nullptr};
  std::optional<int64_t> lastRead_, lastReadDts_, gopKey_, prevKey_, maxSent_;
  std::optional<int64_t> lastOut_;  // the time of the last frame out of the decoder
  std::optional<int64_t> keySent_;  // the dts of the last keyframe packet sent (AVI)
  int64_t keyLead_ = 0;             // the most an AVI keyframe was shown after its dts
  int64_t maxKeyGap_ = 0;
  int64_t synthetic_ = 0;
  bool eof_ = false;
  bool indexDts_ = false;  // AVI: timestamps are decode-order frame indices (FrameTime)
  WalkStats stats_;
};

}  // namespace vidlm
