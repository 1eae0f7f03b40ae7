// Test helper (not shipped): the M-RoPE positions libmtmd's own helper gives a prompt of text and
// images/frames, as mtmd_helper_eval_chunks walks it. Usage:
//   mtmd-probe MODEL MMPROJ ITEM...   ITEM = "text:<text>" | "image:WxH" | "frame:WxH" (frames are mergeable)
// Prints one JSON object: { chunks: [{ type, n, npos, pos0, nx, ny, positions (4·n, section-major) }], next }.
// Text chunk positions are what llama-batch broadcasts for a token batch (the same value in all four sections).
#include "llama.h"
#include "mtmd.h"
#include "mtmd-helper.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static void quiet(ggml_log_level, const char *, void *) {}

int main(int argc, char ** argv) {
  if (argc < 4) { std::fprintf(stderr, "usage: mtmd-probe MODEL MMPROJ ITEM...\n"); return 2; }
  llama_log_set(quiet, nullptr);
  mtmd_helper_log_set(quiet, nullptr);
  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model * model = llama_model_load_from_file(argv[1], mp);
  if (!model) { std::fprintf(stderr, "model load failed\n"); return 1; }
  mtmd_context_params cp = mtmd_context_params_default();
  cp.use_gpu = false; cp.n_threads = 1; cp.print_timings = false; cp.warmup = false;
  mtmd_context * ctx = mtmd_init_from_file(argv[2], model, cp);
  if (!ctx) { std::fprintf(stderr, "mmproj load failed\n"); return 1; }

  std::string prompt;
  std::vector<mtmd_bitmap *> bitmaps;
  for (int a = 3; a < argc; a++) {
    std::string item = argv[a];
    if (item.rfind("text:", 0) == 0) { prompt += item.substr(5); continue; }
    const bool frame = item.rfind("frame:", 0) == 0;
    unsigned w = 0, h = 0;
    if (std::sscanf(item.c_str() + (frame ? 6 : 6), "%ux%u", &w, &h) != 2) { std::fprintf(stderr, "bad item %s\n", item.c_str()); return 2; }
    std::vector<unsigned char> rgb(static_cast<size_t>(w) * h * 3);
    for (size_t i = 0; i < rgb.size(); i++) rgb[i] = static_cast<unsigned char>((i * 37 + bitmaps.size() * 11) & 0xff);
    mtmd_bitmap * bm = mtmd_bitmap_init(w, h, rgb.data());
    if (frame) mtmd_bitmap_set_mergeable(bm, true);
    bitmaps.push_back(bm);
    prompt += mtmd_default_marker();
  }
  mtmd_input_text text{prompt.c_str(), prompt.size(), false, true};
  mtmd_input_chunks * chunks = mtmd_input_chunks_init();
  if (mtmd_tokenize(ctx, chunks, &text, const_cast<const mtmd_bitmap **>(bitmaps.data()), bitmaps.size()) != 0) {
    std::fprintf(stderr, "tokenize failed\n"); return 1;
  }
  const bool mrope = mtmd_decode_use_mrope(ctx);
  llama_pos nPast = 0;
  std::printf("{\"mrope\":%s,\"chunks\":[", mrope ? "true" : "false");
  for (size_t c = 0; c < mtmd_input_chunks_size(chunks); c++) {
    const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks, c);
    const size_t n = mtmd_input_chunk_get_n_tokens(chunk);
    const llama_pos npos = mtmd_input_chunk_get_n_pos(chunk);
    std::vector<llama_pos> pos(n * 4);
    const bool image = mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_IMAGE;
    size_t nx = 0, ny = 0;
    if (image) {
      const mtmd_image_tokens * it = mtmd_input_chunk_get_tokens_image(chunk);
      nx = mtmd_image_tokens_get_nx(it); ny = mtmd_image_tokens_get_ny(it);
      std::vector<mtmd_decoder_pos> rel(n);
      mtmd_helper_image_get_decoder_pos(it, nPast, rel.data());
      // decode_embd_batch::set_position_mrope_2d: t, then y, then x, then z
      for (size_t i = 0; i < n; i++) { pos[i] = rel[i].t; pos[n + i] = rel[i].y; pos[2 * n + i] = rel[i].x; pos[3 * n + i] = rel[i].z; }
    } else {
      for (size_t s = 0; s < 4; s++) for (size_t i = 0; i < n; i++) pos[s * n + i] = nPast + static_cast<llama_pos>(i);
    }
    std::printf("%s{\"type\":\"%s\",\"n\":%zu,\"npos\":%d,\"pos0\":%d,\"nx\":%zu,\"ny\":%zu,\"positions\":[", c ? "," : "", image ? "image" : "text", n, npos, nPast, nx, ny);
    for (size_t i = 0; i < pos.size(); i++) std::printf("%s%d", i ? "," : "", pos[i]);
    std::printf("]}");
    nPast += npos;
  }
  std::printf("],\"next\":%d}\n", nPast);
  mtmd_input_chunks_free(chunks);
  for (auto * b : bitmaps) mtmd_bitmap_free(b);
  mtmd_free(ctx);
  llama_model_free(model);
  return 0;
}
