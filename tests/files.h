// SPDX-License-Identifier: GPL-2.0-only
// Whole files in and out of a test: what the CLI wrote, the checked-in corpus, JSON records.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace mmudiff::testing {

// Every byte of the file; empty when it cannot be read (the assertion on its content says so).
inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The file as JSON: throws nlohmann::json::parse_error when it is missing or not JSON, which
// fails the test with the parser's message.
inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace mmudiff::testing
