#include "io/line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "rerank/error.h"
#include "rerank/utf8.h"

namespace rerank::io {

namespace {
constexpr std::size_t kBlock = std::size_t{1} << 20;
}

LineReader::LineReader(const std::string& path, std::size_t max_line_bytes)
    : path_(path), max_line_(max_line_bytes) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw InputError(path, 0, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      ::close(fd_);
      fd_ = -1;
      throw InputError(path, 0, "is a directory, expected a file");
    }
    if (S_ISREG(st.st_mode)) total_ = static_cast<std::uint64_t>(st.st_size);
  }
  // A small file gets a buffer of its size (a one-line query file need not zero a megabyte); the
  // buffer grows as refill() needs, so a file that grows while read is still read whole.
  const std::uint64_t want = total_ ? total_ + 1 : kBlock;
  buf_.resize(static_cast<std::size_t>(std::clamp<std::uint64_t>(want, 4096, kBlock)));
}

LineReader::~LineReader() {
  if (fd_ >= 0) ::close(fd_);
}

// Moves unconsumed bytes to the front and reads more; grows the buffer when a line fills it.
bool LineReader::refill() {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
  for (;;) {
    const ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError(path_, 0, std::string("read failed: ") + std::strerror(errno));
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    end_ += static_cast<std::size_t>(n);
    return true;
  }
}

bool LineReader::next(std::string_view& line) {
  std::size_t scanned = begin_;  // bytes already searched for '\n'
  for (;;) {
    const char* start = buf_.data() + scanned;
    const void* nl = std::memchr(start, '\n', end_ - scanned);
    if (nl) {
      const std::size_t pos = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.data());
      std::size_t len = pos - begin_;
      if (len > max_line_) {
        ++line_no_;
        fail("line is longer than " + std::to_string(max_line_) + " bytes");
      }
      line = std::string_view(buf_.data() + begin_, len);
      consumed_ += len + 1;
      begin_ = pos + 1;
      break;
    }
    if (end_ - begin_ > max_line_) {
      ++line_no_;
      fail("line is longer than " + std::to_string(max_line_) + " bytes");
    }
    const std::size_t pending = end_ - begin_;
    if (!refill()) {
      if (end_ == begin_) return false;
      // Last line without a newline.
      line = std::string_view(buf_.data() + begin_, end_ - begin_);
      consumed_ += end_ - begin_;
      begin_ = end_;
      break;
    }
    scanned = begin_ + pending;
  }
  ++line_no_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (first_line_) {
    first_line_ = false;
    if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  }
  return true;
}

void LineReader::require_utf8(std::string_view line) const {
  // Fast path: pure ASCII (8 bytes at a time) needs no decoding.
  const char* p = line.data();
  const char* end = p + line.size();
  std::uint64_t high = 0;
  for (; p + 8 <= end; p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    high |= word;
  }
  for (; p < end; ++p) high |= static_cast<unsigned char>(*p);
  if ((high & 0x8080808080808080ULL) == 0) return;
  if (const auto bad = find_invalid_utf8(line))
    fail("invalid UTF-8 at byte " + std::to_string(*bad + 1) + " of the line");
}

void LineReader::fail(const std::string& what) const { throw InputError(path_, line_no_, what); }

}  // namespace rerank::io
