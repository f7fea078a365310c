// SPDX-License-Identifier: GPL-2.0-only
#include "tools/mmudiff/output_path.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "mmu/ops/text_format.h"

namespace mmudiff::cli {

namespace fs = std::filesystem;

namespace {

// The path's type; throws InputError for a path that cannot be looked up at all (ELOOP,
// ENOTDIR, EACCES). A path that does not exist yet is fine: the command creates it.
fs::file_type look_up(const std::string& path) {
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  if (ec && status.type() != fs::file_type::not_found)
    throw InputError(fmt::format("{}: {}", path, ec.message()));
  return status.type();
}

}  // namespace

void check_output_file(const std::string& path) {
  fs::file_type type = look_up(path);
  if (type == fs::file_type::directory)
    throw InputError(fmt::format("{}: is a directory; give a file name to write", path));
  // The file is replaced by renaming a new one over it, which would put a regular file where a
  // device or a pipe was (as root: /dev/null).
  if (type != fs::file_type::not_found && type != fs::file_type::regular)
    throw InputError(fmt::format("{}: not a regular file; give a file name to write", path));
}

bool prepare_output_directory(const std::string& path) {
  fs::file_type type = look_up(path);
  if (type != fs::file_type::not_found && type != fs::file_type::directory)
    throw InputError(fmt::format("{}: exists and is not a directory", path));
  std::error_code ec;
  bool created = fs::create_directories(path, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create: {}", path, ec.message()));
  std::string probe = (fs::path(path) / ".mmudiff-write-test-XXXXXX").string();
  int fd = ::mkstemp(probe.data());
  if (fd < 0)
    throw InputError(fmt::format("{}: cannot write in it: {}", path, std::strerror(errno)));
  ::close(fd);
  ::unlink(probe.c_str());
  return created;
}

}  // namespace mmudiff::cli
