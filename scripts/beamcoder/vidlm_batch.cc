/*
 * vidlm's batch calls for beamcoder (added by scripts/patch-beamcoder.mjs; compiled into
 * beamcoder.node, so GPL-3.0-or-later like beamcoder itself).
 *
 * Seeking to a frame means reading and decoding ~100 packets from the keyframe before it, and
 * beamcoder makes one asynchronous call per packet read and per packet decoded, and wraps every
 * decoded picture in a JavaScript object that only the garbage collector frees. These two calls
 * do that walk in batches on a worker thread:
 *
 *   readPackets(demuxer, { stream_index, until, max, max_bytes })
 *     reads packets of one stream (others are dropped) until one has a timestamp >= `until`, or
 *     `max` packets (default 64), or `max_bytes` of packet data (default 16 MiB: raw video has
 *     megabytes per packet), or the end of the file (then the result is shorter, possibly empty).
 *     Inputs fed from JavaScript (an adaptor) are refused: their reads need the main thread.
 *   decodePackets(decoder, packets, { skip_before, drop_before })
 *     sends the packets in order; a non-key packet with a timestamp < skip_before is decoded
 *     with skip_frame = nonref, others with skip_frame = default. Decoded pictures with a
 *     timestamp < drop_before are freed here, except the latest of them (so the caller still
 *     knows the last picture of the file). A packet the decoder rejects is counted, not fatal.
 *     Resolves { frames, dropped, errors }.
 */
#include "decode.h"
#include "demux.h"
#include "format.h"
#include "frame.h"
#include "packet.h"

#include <memory>
#include <string>
#include <vector>

namespace {

bool hasTs(int64_t v) { return v != AV_NOPTS_VALUE; }

int64_t packetTime(const AVPacket* p) { return hasTs(p->pts) ? p->pts : p->dts; }

int64_t frameTime(const AVFrame* f) { return hasTs(f->best_effort_timestamp) ? f->best_effort_timestamp : f->pts; }

std::string avError(const char* base, int code) {
  char* msg = avErrorMsg(base, code); // malloc'ed by beamcoder
  std::string out(msg);
  free(msg);
  return out;
}

napi_status getInt64(napi_env env, napi_value obj, const char* name, int64_t* out, bool* found) {
  bool has = false;
  napi_status s = napi_has_named_property(env, obj, name, &has);
  if (s != napi_ok || !has) { *found = false; return s; }
  napi_value v;
  if ((s = napi_get_named_property(env, obj, name, &v)) != napi_ok) return s;
  napi_valuetype t;
  if ((s = napi_typeof(env, v, &t)) != napi_ok) return s;
  if (t != napi_number) { *found = false; return napi_ok; }
  double d;
  if ((s = napi_get_value_double(env, v, &d)) != napi_ok) return s;
  *out = d <= -9.2e18 ? AV_NOPTS_VALUE : d >= 9.2e18 ? INT64_MAX : (int64_t) d;
  *found = true;
  return napi_ok;
}

struct Work {
  napi_deferred deferred = nullptr;
  napi_async_work request = nullptr;
  napi_ref keep = nullptr; // the demuxer or decoder object, alive while the work runs
  std::string error;
  virtual ~Work() {}
  virtual void execute() = 0;
  virtual napi_status result(napi_env env, napi_value* out) = 0;
};

void executeWork(napi_env, void* data) { static_cast<Work*>(data)->execute(); }

void completeWork(napi_env env, napi_status status, void* data) {
  Work* w = static_cast<Work*>(data);
  napi_value value = nullptr;
  if (status != napi_ok && w->error.empty()) w->error = "the batch call did not complete";
  napi_status s = w->error.empty() ? w->result(env, &value) : napi_ok;
  if (s != napi_ok && w->error.empty()) w->error = "could not build the result";
  if (w->error.empty()) {
    napi_resolve_deferred(env, w->deferred, value);
  } else {
    napi_value msg, err;
    napi_create_string_utf8(env, w->error.c_str(), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, nullptr, msg, &err);
    napi_reject_deferred(env, w->deferred, err);
  }
  if (w->keep) napi_delete_reference(env, w->keep);
  napi_delete_async_work(env, w->request);
  delete w;
}

// Throws a TypeError (bad arguments) or an Error; the caller returns nullptr.
napi_value raise(napi_env env, const char* msg, bool typeError = true) {
  if (typeError) napi_throw_type_error(env, nullptr, msg);
  else napi_throw_error(env, nullptr, msg);
  return nullptr;
}

// Queues the work; completeWork() owns it from then on.
napi_value queue(napi_env env, std::unique_ptr<Work> owned, napi_value self, const char* name) {
  napi_value promise, resource;
  Work* w = owned.get();
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
      napi_create_reference(env, self, 1, &w->keep) != napi_ok ||
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource) != napi_ok ||
      napi_create_async_work(env, nullptr, resource, executeWork, completeWork, w, &w->request) != napi_ok ||
      napi_queue_async_work(env, w->request) != napi_ok) {
    return raise(env, "could not queue the batch call", false);
  }
  owned.release();
  return promise;
}

// ---- readPackets -------------------------------------------------------------------------

struct ReadWork : Work {
  fmtCtxRef* ref = nullptr;
  int stream = -1;
  int64_t until = INT64_MAX;
  int64_t max = 64;
  int64_t maxBytes = 16 << 20;
  int64_t bytes = 0;
  std::vector<AVPacket*> packets;
  ~ReadWork() override { for (AVPacket* p : packets) av_packet_free(&p); }

  void execute() override {
    AVFormatContext* fmt = ref->fmtCtx;
    if (!fmt) { error = "Format context has been deleted."; return; }
    while ((int64_t) packets.size() < max && bytes < maxBytes) {
      AVPacket* p = av_packet_alloc();
      int ret = av_read_frame(fmt, p);
      if (ret < 0) {
        av_packet_free(&p);
        // end of file: what was read so far. A read error with packets in hand: return them
        // first (as one-packet reads would); the next call meets the error again.
        if (ret != AVERROR_EOF && packets.empty()) error = avError("Problem reading frame: ", ret);
        return;
      }
      if (p->stream_index != stream) { av_packet_free(&p); continue; }
      packets.push_back(p);
      bytes += p->size;
      int64_t t = packetTime(p);
      if (hasTs(t) && t >= until) return;
    }
  }

  napi_status result(napi_env env, napi_value* out) override {
    napi_status s = napi_create_array_with_length(env, packets.size(), out);
    for (uint32_t i = 0; s == napi_ok && i < packets.size(); i++) {
      packetData* pd = new packetData;
      pd->packet = packets[i];
      packets[i] = nullptr;
      napi_value v;
      if ((s = fromAVPacket(env, pd, &v)) != napi_ok) break;
      s = napi_set_element(env, *out, i, v);
    }
    return s;
  }
};

napi_value readPackets(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  if (napi_get_cb_info(env, info, &argc, args, nullptr, nullptr) != napi_ok || argc < 2) {
    return raise(env, "readPackets(demuxer, { stream_index, until, max, max_bytes })");
  }
  napi_value refExt, adaptorExt;
  void* adaptor = nullptr;
  std::unique_ptr<ReadWork> w(new ReadWork);
  bool found = false;
  int64_t v = 0;
  if (napi_get_named_property(env, args[0], "_formatContextRef", &refExt) != napi_ok ||
      napi_get_value_external(env, refExt, (void**) &w->ref) != napi_ok || !w->ref) {
    return raise(env, "readPackets: the first argument is not a demuxer");
  }
  if (napi_get_named_property(env, args[0], "_adaptor", &adaptorExt) == napi_ok) {
    napi_valuetype t;
    if (napi_typeof(env, adaptorExt, &t) == napi_ok && t == napi_external) napi_get_value_external(env, adaptorExt, &adaptor);
  }
  if (adaptor) return raise(env, "readPackets: inputs fed from JavaScript are read one packet at a time", false);
  if (getInt64(env, args[1], "stream_index", &v, &found) != napi_ok || !found) {
    return raise(env, "readPackets: stream_index is required");
  }
  w->stream = (int) v;
  if (getInt64(env, args[1], "until", &v, &found) == napi_ok && found && hasTs(v)) w->until = v;
  if (getInt64(env, args[1], "max", &v, &found) == napi_ok && found && v > 0) w->max = v;
  if (getInt64(env, args[1], "max_bytes", &v, &found) == napi_ok && found && v > 0) w->maxBytes = v;
  return queue(env, std::move(w), args[0], "vidlm.readPackets");
}

// ---- decodePackets -----------------------------------------------------------------------

struct DecodeWork : Work {
  AVCodecContext* dec = nullptr;
  std::vector<AVPacket*> packets;
  int64_t skipBefore = AV_NOPTS_VALUE;
  int64_t dropBefore = AV_NOPTS_VALUE;
  std::vector<AVFrame*> frames;
  AVFrame* lastDropped = nullptr;
  int64_t dropped = 0;
  int64_t errors = 0;
  ~DecodeWork() override {
    for (AVPacket* p : packets) av_packet_free(&p);
    for (AVFrame* f : frames) av_frame_free(&f);
    av_frame_free(&lastDropped);
  }

  void take(AVFrame* f) {
    int64_t t = frameTime(f);
    if (hasTs(dropBefore) && hasTs(t) && t < dropBefore) {
      dropped++;
      if (!lastDropped || t >= frameTime(lastDropped)) std::swap(lastDropped, f);
      av_frame_free(&f);
      return;
    }
    frames.push_back(f);
  }

  // every picture the decoder has ready
  bool drain() {
    for (;;) {
      AVFrame* f = av_frame_alloc();
      int ret = avcodec_receive_frame(dec, f);
      if (ret < 0) {
        av_frame_free(&f);
        return ret == AVERROR(EAGAIN) || ret == AVERROR_EOF;
      }
      take(f);
    }
  }

  void execute() override {
    if (!avcodec_is_open(dec)) {
      int ret = avcodec_open2(dec, dec->codec, nullptr);
      if (ret < 0) { error = avError("Problem opening decoder: ", ret); return; }
    }
    for (AVPacket* p : packets) {
      int64_t t = packetTime(p);
      bool skip = hasTs(skipBefore) && hasTs(t) && t < skipBefore && !(p->flags & AV_PKT_FLAG_KEY);
      dec->skip_frame = skip ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
      for (;;) {
        int ret = avcodec_send_packet(dec, p);
        if (ret == AVERROR(EAGAIN)) { // output first, then the same packet again
          if (!drain()) { errors++; break; }
          continue;
        }
        if (ret == AVERROR_EOF) { error = "The decoder has been flushed, and no new packets can be sent to it."; return; }
        if (ret < 0) errors++; // a corrupt packet: FFmpeg conceals what it can, as the ffmpeg program does
        break;
      }
      if (!drain()) errors++;
    }
    dec->skip_frame = AVDISCARD_DEFAULT;
  }

  napi_status result(napi_env env, napi_value* out) override {
    napi_value arr, v;
    napi_status s = napi_create_object(env, out);
    if (s == napi_ok) s = napi_create_array(env, &arr);
    if (lastDropped) { frames.insert(frames.begin(), lastDropped); lastDropped = nullptr; dropped--; }
    for (uint32_t i = 0; s == napi_ok && i < frames.size(); i++) {
      frameData* fd = new frameData;
      fd->frame = frames[i];
      frames[i] = nullptr;
      if ((s = fromAVFrame(env, fd, &v)) != napi_ok) break;
      s = napi_set_element(env, arr, i, v);
    }
    if (s == napi_ok) s = napi_set_named_property(env, *out, "frames", arr);
    if (s == napi_ok && (s = napi_create_int64(env, dropped, &v)) == napi_ok) s = napi_set_named_property(env, *out, "dropped", v);
    if (s == napi_ok && (s = napi_create_int64(env, errors, &v)) == napi_ok) s = napi_set_named_property(env, *out, "errors", v);
    return s;
  }
};

napi_value decodePackets(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  if (napi_get_cb_info(env, info, &argc, args, nullptr, nullptr) != napi_ok || argc < 2) {
    return raise(env, "decodePackets(decoder, packets, { skip_before, drop_before })");
  }
  std::unique_ptr<DecodeWork> w(new DecodeWork);
  napi_value ext;
  if (napi_get_named_property(env, args[0], "_CodecContext", &ext) != napi_ok ||
      napi_get_value_external(env, ext, (void**) &w->dec) != napi_ok || !w->dec || !av_codec_is_decoder(w->dec->codec)) {
    return raise(env, "decodePackets: the first argument is not a decoder");
  }
  bool isArray = false;
  uint32_t n = 0;
  if (napi_is_array(env, args[1], &isArray) != napi_ok || !isArray || napi_get_array_length(env, args[1], &n) != napi_ok) {
    return raise(env, "decodePackets: packets must be an array");
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    if (napi_get_element(env, args[1], i, &el) != napi_ok || isPacket(env, el) != napi_ok) {
      return raise(env, "decodePackets: every element must be a packet");
    }
    AVPacket* ref = av_packet_alloc();
    if (av_packet_ref(ref, getPacket(env, el)) < 0) {
      av_packet_free(&ref);
      return raise(env, "decodePackets: out of memory", false);
    }
    w->packets.push_back(ref);
  }
  if (argc > 2) {
    bool found = false;
    int64_t v = 0;
    if (getInt64(env, args[2], "skip_before", &v, &found) == napi_ok && found) w->skipBefore = v;
    if (getInt64(env, args[2], "drop_before", &v, &found) == napi_ok && found) w->dropBefore = v;
  }
  return queue(env, std::move(w), args[0], "vidlm.decodePackets");
}

} // namespace

napi_status vidlmBatchInit(napi_env env, napi_value exports) {
  napi_value fn;
  napi_status s = napi_create_function(env, "readPackets", NAPI_AUTO_LENGTH, readPackets, nullptr, &fn);
  if (s == napi_ok) s = napi_set_named_property(env, exports, "vidlm_readPackets", fn);
  if (s == napi_ok) s = napi_create_function(env, "decodePackets", NAPI_AUTO_LENGTH, decodePackets, nullptr, &fn);
  if (s == napi_ok) s = napi_set_named_property(env, exports, "vidlm_decodePackets", fn);
  return s;
}
