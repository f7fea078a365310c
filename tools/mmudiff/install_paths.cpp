// SPDX-License-Identifier: GPL-2.0-only
#include "tools/mmudiff/install_paths.h"

#include <system_error>

namespace mmudiff::cli {

namespace fs = std::filesystem;

std::optional<fs::path> executable_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return std::nullopt;
  return exe.parent_path();
}

std::optional<fs::path> installed_fuzz_dir(std::string_view engine) {
  std::optional<fs::path> bin = executable_dir();
  if (!bin) return std::nullopt;
  // MMUDIFF_LIBEXEC_FROM_BIN: libexec/mmudiff relative to bin/ ("../libexec/mmudiff"), from the
  // install directories this build was configured with (tools/mmudiff/CMakeLists.txt).
  fs::path dir = (*bin / MMUDIFF_LIBEXEC_FROM_BIN / engine).lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return std::nullopt;
  return dir;
}

}  // namespace mmudiff::cli
