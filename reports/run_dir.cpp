// SPDX-License-Identifier: GPL-2.0-only
#include "reports/run_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace mmudiff::rundir {

namespace {

[[noreturn]] void fail(const std::filesystem::path& path, std::string_view what) {
  throw std::runtime_error(fmt::format("{}: {}: {}", path.string(), what, std::strerror(errno)));
}

void write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail(path, "write failed");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void sync_directory_of(const std::filesystem::path& path) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // the data itself is synced; a directory we cannot open cannot be synced
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(tmp, "cannot write");
  write_all(fd, bytes, tmp);
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail(tmp, "cannot sync");
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail(path, "cannot rename into place");
  sync_directory_of(path);
}

void write_json_atomic(const std::filesystem::path& path, const nlohmann::json& value) {
  write_file_atomic(path, value.dump(2) + "\n");
}

void append_json_line(const std::filesystem::path& path, const nlohmann::json& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot append");
  write_all(fd, value.dump() + "\n", path);
  ::fsync(fd);
  ::close(fd);
}

nlohmann::json finding_json(const Finding& finding) {
  return {
      {"signature", finding.signature()}, {"class", severity_name(finding.severity)},
      {"oracle", finding.oracle},         {"op_index", finding.op_index},
      {"op_kind", finding.op_kind},       {"summary", finding.summary},
      {"evidence", finding.evidence},
  };
}

std::string finding_dir_name(const Finding& finding) {
  std::string name;
  for (char c : finding.signature()) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (c >= 'A' && c <= 'Z')
      name += static_cast<char>(c - 'A' + 'a');
    else
      name += keep ? c : '-';
  }
  return name;
}

}  // namespace mmudiff::rundir
