// SPDX-License-Identifier: GPL-2.0-only
// Checking where a command's output goes before it does any work: a bad -o or --out is a usage
// error (one line naming the path, exit status 2) at once, not after a long run, and never the
// reason a finding is lost.
#pragma once

#include <string>

namespace mmudiff::cli {

// An output file (-o), written by write_file_atomic: refused when it exists as anything but a
// regular file (a directory, a device) or its path cannot be looked up (a symlink loop, a
// component that is a file). Throws InputError naming the path.
void check_output_file(const std::string& path);

// An output directory (--out): refused when it exists as something other than a directory or
// cannot be looked up; otherwise created, and a file created in it and removed again, so that a
// directory nothing can be written to (/proc, a read-only mount) is refused before the first
// stream runs. True when it created the directory. Throws InputError naming the path.
bool prepare_output_directory(const std::string& path);

}  // namespace mmudiff::cli
