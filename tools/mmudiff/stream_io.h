// SPDX-License-Identifier: GPL-2.0-only
// Reading and writing operation streams from files, in either encoding.
#pragma once

#include <string>

#include "mmu/ops/op.h"

namespace mmudiff::cli {

enum class StreamFormat { Auto, Text, Binary };

// Auto: a .mmu file is text, anything else binary. Throws InputError naming the file.
Stream load_stream(const std::string& path, StreamFormat format = StreamFormat::Auto);

// Writes atomically (temporary file, then rename), so a reader never sees half a file.
void write_file_atomic(const std::string& path, const std::string& bytes);

std::string read_file(const std::string& path);

}  // namespace mmudiff::cli
