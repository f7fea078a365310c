// SPDX-License-Identifier: GPL-2.0-only
#include "tools/mmudiff/stream_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>

#include <fmt/format.h>

#include "mmu/ops/binary_format.h"
#include "mmu/ops/text_format.h"
#include "reports/run_dir.h"

namespace mmudiff::cli {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(fmt::format("{}: read error", path));
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
