// `rerank fuse --output RUN [--method rrf|interpolation] [--rrf-k 60] [--weights 0.5,0.5]
//  [--depth 1000] [--hits 1000] RUN...`
#include <sstream>

#include "cli/command.h"
#include "rerank/error.h"
#include "rerank/fusion.h"
#include "rerank/io.h"

namespace rerank::cli {

namespace {

struct FuseArgs {
  std::vector<std::string> runs;
  std::string output;
  std::string method = "rrf";
  double rrf_k = 60;
  std::string weights;
  std::size_t depth = 1000;
  std::size_t hits = 1000;
  std::string tag = "fused";
};

std::vector<double> parse_weights(const std::string& spec) {
  std::vector<double> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    std::size_t used = 0;
    double w = 0;
    try {
      w = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size()) throw Error("bad weight '" + item + "' in --weights");
    out.push_back(w);
  }
  return out;
}

std::function<int()> setup_fuse(CLI::App& app) {
  auto args = std::make_shared<FuseArgs>();
  app.add_option("RUNS", args->runs, "TREC run files to combine")->required()->expected(1, -1);
  app.add_option("--output", args->output, "Fused TREC run to write")->required();
  app.add_option("--method", args->method,
                 "rrf (reciprocal rank fusion) or interpolation (of min-max normalised scores)")
      ->check(CLI::IsMember({"rrf", "interpolation"}));
  app.add_option("--rrf-k", args->rrf_k, "RRF constant k (default 60)")->check(CLI::PositiveNumber);
  app.add_option("--weights", args->weights,
                 "Interpolation weights, one per run (default: equal, summing to 1)");
  app.add_option("--depth", args->depth, "Documents of each run taking part (default 1000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--hits", args->hits, "Documents per query in the output (default 1000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--tag", args->tag, "Run tag (default fused)");
  return [args] {
    FusionOptions options;
    options.method = args->method == "rrf" ? FusionMethod::kRrf : FusionMethod::kInterpolation;
    options.rrf_k = args->rrf_k;
    if (!args->weights.empty()) {
      if (options.method != FusionMethod::kInterpolation)
        throw Error("--weights applies to --method interpolation");
      options.weights = parse_weights(args->weights);
    }
    options.depth = args->depth;
    options.k = args->hits;
    std::vector<Run> runs;
    for (const auto& path : args->runs) runs.push_back(read_run(path));
    write_run(args->output, fuse_runs(runs, options, args->tag));
    return 0;
  };
}

const CommandRegistration kFuse("fuse",
                                "Combine runs: reciprocal rank fusion or normalised score interpolation",
                                setup_fuse);

}  // namespace

}  // namespace rerank::cli
