// The message a call throws as rerank::Error, so tests can assert the exact text users see.
#pragma once
#include <functional>
#include <string>

#include "rerank/error.h"

namespace rerank::test {

inline std::string error_of(const std::function<void()>& fn, const std::string& none = "(no error)") {
  try {
    fn();
  } catch (const rerank::Error& e) {
    return e.what();
  }
  return none;
}

}  // namespace rerank::test
