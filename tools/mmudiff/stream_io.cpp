// SPDX-License-Identifier: GPL-2.0-only
#include "tools/mmudiff/stream_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>

#include <fmt/format.h>

#include "mmu/ops/binary_format.h"
#include "mmu/ops/text_format.h"
#include "reports/run_dir.h"

namespace mmudiff::cli {

namespace {

// Closes the descriptor on every way out of read_file, the throws included.
struct OpenFile {
  explicit OpenFile(int descriptor) : fd(descriptor) {}
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
  const int fd;
};

}  // namespace

std::string read_file(const std::string& path) {
  OpenFile file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  const int fd = file.fd;
  if (fd < 0) throw InputError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw InputError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  if (S_ISDIR(st.st_mode))
    throw InputError(fmt::format("{}: is a directory, not a stream file", path));
  const std::string too_large =
      fmt::format("{}: larger than {} bytes; not an operation stream", path, kMaxInputBytes);
  std::string bytes;
  if (S_ISREG(st.st_mode)) {
    if (static_cast<uint64_t>(st.st_size) > kMaxInputBytes) throw InputError(too_large);
    bytes.reserve(static_cast<size_t>(st.st_size));  // one buffer, not a doubling series
  }
  // Read until the end, whatever the file claims its size to be (devices and pipes say 0).
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputError(fmt::format("{}: read error: {}", path, std::strerror(errno)));
    if (n == 0) break;
    if (bytes.size() + static_cast<size_t>(n) > kMaxInputBytes) throw InputError(too_large);
    bytes.append(buffer, static_cast<size_t>(n));
  }
  return bytes;
}

Stream load_stream(const std::string& path, StreamFormat format) {
  std::string bytes = read_file(path);
  if (format == StreamFormat::Auto) {
    bool text = path.size() >= 4 && path.compare(path.size() - 4, 4, ".mmu") == 0;
    format = text ? StreamFormat::Text : StreamFormat::Binary;
  }
  if (format == StreamFormat::Text) return parse_text(bytes, path);
  auto data = std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return decode_binary(data);
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  try {
    rundir::write_file_atomic(path, bytes);
  } catch (const std::runtime_error& e) {
    throw InputError(e.what());
  }
}

}  // namespace mmudiff::cli
