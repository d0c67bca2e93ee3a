// Run formats other than TREC's six columns, recognised by read_run (src/io/run.cpp).
#pragma once
#include <string>

#include "rerank/types.h"

namespace rerank::io {

// True when the file's first non-blank character is '{': BEIR's results object.
bool looks_like_json_run(const std::string& path);
Run read_json_run(const std::string& path);

}  // namespace rerank::io
