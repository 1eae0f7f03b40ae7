// A live source's audio track, read along with its pictures: the demuxer hands each of its
// packets over as the video is read (Demuxer::Side), they are decoded at once and resampled to
// mono at the encoder's rate (swresample), and kept as runs of samples stamped with the stream
// time of their first sample until the live loop takes them (liveNext's `audio`).
#pragma once
#include <cstdint>
#include <vector>

#include "demuxer.h"
#include "resampler.h"

namespace vidlm {

struct AudioRun {
  double t = 0;  // stream seconds of pcm[0]
  std::vector<float> pcm;
};

class LiveAudio {
 public:
  LiveAudio(AVStream * st, int rate);
  ~LiveAudio();
  LiveAudio(const LiveAudio &) = delete;
  LiveAudio & operator=(const LiveAudio &) = delete;

  int stream() const { return stream_; }
  int rate() const { return rate_; }
  // False when the track cannot be decoded (no decoder): the pictures go on without it.
  bool ok() const { return dec_ != nullptr; }
  void Packet(const AVPacket * pkt);
  // The runs decoded since the last call.
  std::vector<AudioRun> Take();
  bool Pending() const { return !runs_.empty(); }
  int64_t errors() const { return errors_; }

 private:
  void Add(double t, const float * samples, int n);

  int stream_, rate_;
  double tb_;
  AVCodecContext * dec_ = nullptr;
  AVFrame * frame_ = nullptr;
  Resampler rs_;
  std::vector<float> chunk_;
  std::vector<AudioRun> runs_;
  int64_t errors_ = 0;
};

}  // namespace vidlm
