// A text subtitle stream (mov_text, SubRip, WebVTT, ASS/SSA, plain text) decoded by FFmpeg's own
// subtitle decoders into cues on the source's timeline: FFmpeg turns every text format into ASS
// dialogue lines, of which only the spoken text is kept (style overrides and markup dropped).
#pragma once
#include <string>
#include <vector>

#include "demuxer.h"

namespace vidlm {

struct SubtitleCue {
  double start = 0, end = 0;  // seconds, relative to `origin`; end < 0: until the next cue
  std::string text;
};

struct SubtitleResult {
  std::vector<SubtitleCue> cues;
  int errors = 0;  // packets the decoder rejected (the cues of the others are kept)
};

// The text of an ASS dialogue line as FFmpeg's decoders write it ("ReadOrder,Layer,Style,Name,
// MarginL,MarginR,MarginV,Effect,Text"): the Text field with {\override} blocks removed and
// \N / \n turned into line breaks.
std::string AssDialogueText(const std::string & ass);

bool ExtractSubtitles(Demuxer & dm, int stream, double origin, SubtitleResult & out, VideoError & err);

}  // namespace vidlm
