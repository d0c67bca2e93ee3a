// Buffered line-by-line reading of input files, the base of every reader in src/io.
// Lines come back as views into an internal buffer (valid until the next call), without the line
// ending; "\r\n" and a leading UTF-8 byte order mark are tolerated. Reading in large blocks and
// handing out views keeps a million-line run file well under a second.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rerank::io {

class LineReader {
 public:
  // Lines longer than max_line_bytes are reported as an InputError instead of exhausting memory.
  static constexpr std::size_t kDefaultMaxLine = std::size_t{256} << 20;

  explicit LineReader(const std::string& path, std::size_t max_line_bytes = kDefaultMaxLine);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line, or false at the end of the file. Throws InputError on a too-long line.
  bool next(std::string_view& line);
  // 1-based number of the line last returned by next().
  std::size_t line_number() const { return line_no_; }
  const std::string& path() const { return path_; }
  std::uint64_t bytes_read() const { return consumed_; }
  std::uint64_t bytes_total() const { return total_; }

  // Throws InputError("path:line: invalid UTF-8 at byte N of the line") unless `line` is UTF-8.
  void require_utf8(std::string_view line) const;
  // Throws InputError for the current line.
  [[noreturn]] void fail(const std::string& what) const;

 private:
  bool refill();

  std::string path_;
  int fd_ = -1;
  std::size_t max_line_;
  std::vector<char> buf_;
  std::size_t begin_ = 0;  // start of unconsumed data in buf_
  std::size_t end_ = 0;    // end of valid data in buf_
  bool eof_ = false;
  bool first_line_ = true;
  std::size_t line_no_ = 0;
  std::uint64_t consumed_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace rerank::io
