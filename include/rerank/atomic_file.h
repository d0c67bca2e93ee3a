// Writing a file so that readers never see it half-written: data goes to a temporary file in the
// same directory, which replaces the target only on commit(). Without commit() the temporary is
// removed and any previous file at the target is left untouched.
#pragma once
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>

namespace rerank::io {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // throws rerank::Error when the temporary cannot be created
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view data);
  void commit();  // flushes, closes and renames onto the target path
  const std::string& path() const { return path_; }

 private:
  void flush();

  std::string path_;
  std::string temp_;
  int fd_ = -1;
  std::string pending_;
  bool committed_ = false;
};

// An std::ostream over an AtomicFile, for writers that take a stream.
class AtomicOstream : private std::streambuf, public std::ostream {
 public:
  // badbit in exceptions() makes the stream rethrow the file's own rerank::Error (e.g. disk full).
  explicit AtomicOstream(std::string path) : std::ostream(this), file_(std::move(path)) {
    exceptions(std::ios::badbit);
  }
  void commit() { file_.commit(); }

 private:
  int overflow(int c) override {
    if (c != std::char_traits<char>::eof()) {
      const char ch = static_cast<char>(c);
      file_.write(std::string_view(&ch, 1));
    }
    return std::char_traits<char>::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    file_.write(std::string_view(s, static_cast<std::size_t>(n)));
    return n;
  }

  AtomicFile file_;
};

}  // namespace rerank::io
