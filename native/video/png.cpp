#include "png.h"

#include <cstring>

#include "ffmpeg_api.h"

namespace vidlm {

bool EncodePng(int width, int height, const uint8_t * rgb, std::vector<uint8_t> & out, std::string & error) {
  const FFmpeg & f = ff();
  const AVCodec * codec = f.avcodec_find_encoder_by_name("png");
  if (!codec) { error = "vidlm's FFmpeg has no PNG encoder"; return false; }
  AVCodecContext * enc = f.avcodec_alloc_context3(codec);
  AVFrame * frame = f.av_frame_alloc();
  AVPacket * pkt = f.av_packet_alloc();
  bool ok = false;
  enc->width = width;
  enc->height = height;
  enc->pix_fmt = AV_PIX_FMT_RGB24;
  enc->time_base = {1, 25};
  if (int ret = f.avcodec_open2(enc, codec, nullptr); ret < 0) {
    error = "cannot open the PNG encoder: " + AvError(ret);
  } else {
    frame->format = AV_PIX_FMT_RGB24;
    frame->width = width;
    frame->height = height;
    if (f.av_frame_get_buffer(frame, 0) < 0) {
      error = "out of memory";
    } else {
      for (int y = 0; y < height; y++) std::memcpy(frame->data[0] + static_cast<ptrdiff_t>(y) * frame->linesize[0], rgb + static_cast<size_t>(y) * width * 3, static_cast<size_t>(width) * 3);
      frame->pts = 0;
      ok = f.avcodec_send_frame(enc, frame) >= 0 && f.avcodec_send_frame(enc, nullptr) >= 0;
      while (ok && f.avcodec_receive_packet(enc, pkt) >= 0) {
        out.insert(out.end(), pkt->data, pkt->data + pkt->size);
        f.av_packet_unref(pkt);
      }
      if (!ok || out.empty()) { ok = false; error = "PNG encoding failed"; }
    }
  }
  f.av_packet_free(&pkt);
  f.av_frame_free(&frame);
  f.avcodec_free_context(&enc);
  return ok;
}

}  // namespace vidlm
