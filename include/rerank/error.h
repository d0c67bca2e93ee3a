// Errors rerank.cpp reports to its users. Every message names the problem and, for input files,
// where it is ("file:line: what is wrong").
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>

namespace rerank {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An error in an input file at a 1-based line (0: the file as a whole).
class InputError : public Error {
 public:
  InputError(const std::string& file, std::size_t line, const std::string& what)
      : Error(line ? file + ":" + std::to_string(line) + ": " + what : file + ": " + what) {}
};

// An input a model cannot take as it is (a query longer than the model's window): the caller's data is
// at fault, not the machinery, so a server answers it with 422 and its batch-mates are unaffected.
class InvalidInput : public Error {
 public:
  using Error::Error;
};

}  // namespace rerank
