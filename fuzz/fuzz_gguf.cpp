// Model files checked before llama.cpp loads them: validate_gguf_file (magic, header, metadata and
// tensor table through ggml's gguf reader, tensor data inside the file, general.architecture), then,
// for a file that passes, rerank.cpp's own GGUF reading for its encoder runtime (EncoderWeights).
// With RERANK_FUZZ_SEED_DIR set, initialisation writes seed inputs there: tiny random-weight BERT
// cross-encoders (F32, F16, Q8_0 matrices) over an eight-token vocabulary, so that mutations of the
// header, metadata and tensor table are not drowned in a real vocabulary's 30,000 strings.
#include <ggml.h>
#include <gguf.h>
#include <sys/stat.h>

#include "fuzz_input.h"
#include "model/encoder_weights.h"
#include "rerank/model.h"
#include "rerank/test_models.h"

namespace {
void write_seeds(const std::string& dir) {
  mkdir(dir.c_str(), 0755);
  const rerank::fuzz::ScratchFile vocab(".vocab.gguf");
  gguf_context* g = gguf_init_empty();
  const char* tokens[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "star", "##s"};
  gguf_set_val_str(g, "tokenizer.ggml.model", "bert");
  gguf_set_arr_str(g, "tokenizer.ggml.tokens", tokens, 8);
  gguf_set_val_u32(g, "tokenizer.ggml.cls_token_id", 2);
  gguf_set_val_u32(g, "tokenizer.ggml.seperator_token_id", 3);
  gguf_write_to_file(g, vocab.path().c_str(), false);
  gguf_free(g);
  for (const auto type :
       {rerank::TestModelType::F32, rerank::TestModelType::F16, rerank::TestModelType::Q8_0}) {
    rerank::TestModelSpec spec;
    spec.type = type;
    spec.vocab_path = vocab.path();
    rerank::write_test_model(spec, dir + "/bert-tiny-" + rerank::to_string(type) + ".gguf");
  }
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ggml_log_set([](ggml_log_level, const char*, void*) {}, nullptr);  // ggml's parse errors: noise here
  if (const char* dir = std::getenv("RERANK_FUZZ_SEED_DIR")) write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rerank::fuzz::read_as_file(".gguf", data, size, [](const std::string& path) {
    rerank::validate_gguf_file(path);
    for (const auto output :
         {rerank::detail::EncoderOutput::Classifier, rerank::detail::EncoderOutput::PooledEmbedding}) {
      std::string why_not;
      (void)rerank::detail::EncoderWeights::open(path, output, &why_not);
    }
  });
  return 0;
}
