// `rerank make-test-model`: writes a random-weight GGUF of a real reranker architecture and shape
// (see include/rerank/test_models.h and docs/test-models.md).
#include <iostream>

#include "cli/command.h"
#include "rerank/test_models.h"

namespace rerank::cli {
namespace {

struct Options {
  std::string arch, shape = "tiny", type = "f16", output, vocab;
  std::uint64_t seed = 1;
  bool rerank_head = false;
};

const CommandRegistration kMakeTestModel{
    "make-test-model", "Write a random-weight GGUF test model of a real architecture (bert, qwen3)",
    [](CLI::App& app) -> std::function<int()> {
      auto opt = std::make_shared<Options>();
      app.add_option("--arch", opt->arch, "Architecture: bert (cross-encoder) or qwen3 (decoder reranker)")
          ->required()
          ->check(CLI::IsMember({"bert", "qwen3"}));
      app.add_option("--shape", opt->shape, "Shape: tiny, minilm-l6 (bert) or qwen3-0.6b (qwen3)")
          ->check(CLI::IsMember({"tiny", "minilm-l6", "qwen3-0.6b"}))
          ->capture_default_str();
      app.add_option("--seed", opt->seed, "Random seed (same seed, same bytes)")->capture_default_str();
      app.add_option("--type", opt->type, "Storage type of the weight matrices: f32, f16, q8_0")
          ->check(CLI::IsMember({"f32", "f16", "q8_0"}))
          ->capture_default_str();
      app.add_flag("--rerank-head", opt->rerank_head,
                   "qwen3: add llama.cpp's Qwen3-Reranker head (cls.output = LM head rows of yes/no, rank "
                   "pooling) so llama-server --reranking can score it");
      app.add_option("--vocab", opt->vocab,
                     "Vocabulary GGUF to copy the tokenizer from (default: llama.cpp's "
                     "models/ggml-vocab-bert-bge.gguf or ggml-vocab-qwen2.gguf)");
      app.add_option("--output,-o", opt->output, "GGUF file to write")->required();
      return [opt]() {
        TestModelSpec spec;
        spec.arch = parse_test_model_arch(opt->arch);
        spec.shape = parse_test_model_shape(opt->shape);
        spec.type = parse_test_model_type(opt->type);
        spec.seed = opt->seed;
        spec.rerank_head = opt->rerank_head;
        spec.vocab_path = opt->vocab;
        write_test_model(spec, opt->output);
        std::cerr << "wrote " << opt->output << " (" << opt->arch << " " << opt->shape << ", " << opt->type
                  << ", seed " << opt->seed << ", random weights)\n";
        return 0;
      };
    }};

}  // namespace
}  // namespace rerank::cli
