// PNG encoding of an RGB24 picture with FFmpeg's png encoder (vidlm frames --out).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vidlm {

bool EncodePng(int width, int height, const uint8_t * rgb, std::vector<uint8_t> & out, std::string & error);

}  // namespace vidlm
