// SPDX-License-Identifier: GPL-2.0-only
// Reading and writing operation streams from files, in either encoding.
#pragma once

#include <cstddef>
#include <string>

#include "mmu/ops/op.h"

namespace mmudiff::cli {

// The largest input file any command reads. A stream holds at most kMaxStreamOps operations:
// about 44 KiB at most as binary, some 60 KiB as text, and the limit leaves ample room for
// comments. Anything larger is not a stream (a device such as /dev/zero, a disk image) and is
// refused after reading at most this many bytes.
inline constexpr size_t kMaxInputBytes = size_t{16} << 20;

enum class StreamFormat { Auto, Text, Binary };

// Auto: a .mmu file is text, anything else binary. Throws InputError naming the file.
Stream load_stream(const std::string& path, StreamFormat format = StreamFormat::Auto);

// Writes atomically (temporary file, then rename), so a reader never sees half a file. Throws
// InputError naming the file; the temporary file is removed on failure.
void write_file_atomic(const std::string& path, const std::string& bytes);

// The whole file, at most kMaxInputBytes. Throws InputError naming the file for one that cannot
// be opened or read, a directory, or one that is larger.
std::string read_file(const std::string& path);

}  // namespace mmudiff::cli
