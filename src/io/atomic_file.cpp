#include "rerank/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "rerank/error.h"

namespace rerank::io {

namespace {
constexpr std::size_t kFlushAt = std::size_t{1} << 20;

std::string errno_text() { return std::strerror(errno); }
}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  static std::atomic<unsigned> counter{0};
  temp_ = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd_ < 0) throw Error(path_ + ": cannot create output file: " + errno_text());
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_.c_str());
}

void AtomicFile::write(std::string_view data) {
  pending_.append(data);
  if (pending_.size() >= kFlushAt) flush();
}

void AtomicFile::flush() {
  std::size_t done = 0;
  while (done < pending_.size()) {
    const ssize_t n = ::write(fd_, pending_.data() + done, pending_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(path_ + ": write failed: " + errno_text());
    }
    done += static_cast<std::size_t>(n);
  }
  pending_.clear();
}

void AtomicFile::commit() {
  flush();
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw Error(path_ + ": write failed: " + errno_text());
  if (std::rename(temp_.c_str(), path_.c_str()) != 0)
    throw Error(path_ + ": cannot replace file: " + errno_text());
  committed_ = true;
}

}  // namespace rerank::io
