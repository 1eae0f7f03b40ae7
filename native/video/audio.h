// An audio stream as interleaved Float32 PCM at the requested rate and channel count
// (swresample), placed on the timeline by timestamp: samples[0] is at `start` seconds.
#pragma once
#include <vector>

#include "demuxer.h"

namespace vidlm {

struct AudioRequest {
  int stream = 0;
  double start = 0, end = 0;  // seconds, relative to `origin`
  double origin = 0;          // the source's t = 0 in seconds of the stream's clock
  int rate = 16000, channels = 1;
};

bool ExtractAudio(Demuxer & dm, const AudioRequest & req, std::vector<float> & pcm, VideoError & err);

}  // namespace vidlm
