// SPDX-License-Identifier: GPL-2.0-only
// For the kernel backends' tests of where their code came from: the SHA-256 of a file as it is
// now (to compare with what configure recorded), and git's view of the source tree (no kernel
// file may be tracked, or picked up by "git add -A").
#pragma once

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <sodium.h>

#include "tests/cli_runner.h"

namespace mmudiff::testing {

// Lower-case hex; "unreadable: PATH" when the file cannot be read.
inline std::string sha256_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "unreadable: " + path;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::string hex;
  for (unsigned char c : digest) hex += fmt::format("{:02x}", c);
  return hex;
}

// Runs a git command in the source tree; nullopt when git or the repository is not there.
inline std::optional<std::vector<std::string> > git_lines(const std::string& args) {
  const CliResult r = shell(fmt::format("git -C '{}' {} 2>/dev/null", MMUDIFF_SOURCE_DIR, args));
  if (r.status != 0) return std::nullopt;
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

}  // namespace mmudiff::testing
