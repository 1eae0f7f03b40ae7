// FFmpeg's functions, reached through one table filled at first use by dlopen()ing the pinned
// libraries shipped next to vidlm.node (lib*-vidlm.so.N). They are opened with RTLD_LOCAL |
// RTLD_DEEPBIND and never linked: an FFmpeg already in the process (Electron's libffmpeg, another
// addon's) can neither take our calls nor be taken by them, and LGPL users can swap the files.
#pragma once
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <string>

namespace vidlm {

// X(library, function): every FFmpeg function vidlm calls.
#define VIDLM_FFMPEG_FUNCTIONS(X)                                                               \
  X(avutil, av_log_set_callback) X(avutil, av_log_format_line2) X(avutil, av_strerror)           \
  X(avutil, av_malloc) X(avutil, av_free) X(avutil, av_dict_set) X(avutil, av_dict_free)         \
  X(avutil, av_dict_get) X(avutil, av_dict_count) X(avutil, av_frame_alloc) X(avutil, av_frame_free) \
  X(avutil, av_frame_unref) X(avutil, av_frame_get_buffer) X(avutil, av_frame_get_side_data)     \
  X(avutil, av_frame_clone) X(avutil, av_image_copy_plane) X(avutil, av_pix_fmt_desc_get) X(avutil, av_get_pix_fmt_name)        \
  X(avutil, av_get_sample_fmt_name) X(avutil, av_channel_layout_describe)                        \
  X(avutil, av_channel_layout_default) X(avutil, av_channel_layout_uninit)                       \
  X(avutil, av_channel_layout_copy) X(avutil, av_display_rotation_get) X(avutil, av_opt_set_int) \
  X(avutil, av_opt_set_chlayout) X(avutil, av_opt_set_sample_fmt) X(avutil, av_rescale_q)        \
  X(avutil, avutil_version) X(avutil, av_version_info) X(avcodec, av_packet_side_data_get)        \
  X(avcodec, avcodec_find_decoder) X(avcodec, avcodec_find_encoder_by_name)                      \
  X(avcodec, avcodec_alloc_context3) X(avcodec, avcodec_free_context)                            \
  X(avcodec, avcodec_parameters_to_context) X(avcodec, avcodec_open2)                            \
  X(avcodec, avcodec_send_packet) X(avcodec, avcodec_receive_frame) X(avcodec, avcodec_flush_buffers) \
  X(avcodec, avcodec_send_frame) X(avcodec, avcodec_receive_packet) X(avcodec, avcodec_profile_name) \
  X(avcodec, avcodec_descriptor_get) X(avcodec, av_packet_alloc) X(avcodec, av_packet_free)      \
  X(avcodec, av_packet_unref) X(avcodec, av_packet_clone) X(avcodec, avcodec_version)            \
  X(avcodec, avcodec_decode_subtitle2) X(avcodec, avsubtitle_free)            \
  X(avformat, avformat_alloc_context) X(avformat, avformat_open_input) X(avformat, avformat_close_input) \
  X(avformat, avformat_find_stream_info) X(avformat, av_read_frame) X(avformat, av_seek_frame)   \
  X(avformat, avformat_seek_file) X(avformat, av_find_input_format) X(avformat, avio_alloc_context) \
  X(avformat, avio_context_free) X(avformat, avformat_network_init) X(avformat, avformat_version) \
  X(swscale, sws_getCachedContext) X(swscale, sws_freeContext) X(swscale, sws_scale)             \
  X(swscale, sws_setColorspaceDetails) X(swscale, sws_getColorspaceDetails) X(swscale, sws_getCoefficients) X(swscale, swscale_version) \
  X(swresample, swr_alloc) X(swresample, swr_init) X(swresample, swr_free) X(swresample, swr_convert) \
  X(swresample, swr_get_out_samples) X(swresample, swresample_version)

struct FFmpeg {
#define VIDLM_FFMPEG_MEMBER(lib, fn) decltype(&::fn) fn = nullptr;
  VIDLM_FFMPEG_FUNCTIONS(VIDLM_FFMPEG_MEMBER)
#undef VIDLM_FFMPEG_MEMBER
};

// The table, loading the libraries on first use; throws std::runtime_error with the loader's
// reason (a missing file, a wrong version) when they cannot be loaded.
const FFmpeg & ff();
// Where the libraries are looked for (the addon's folder unless VIDLM_FFMPEG_DIR is set).
std::string FFmpegDir();
// FFmpeg's message for an AVERROR code.
std::string AvError(int err);

}  // namespace vidlm
