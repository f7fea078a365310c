// SPDX-License-Identifier: GPL-2.0-only
// Where a kernel backend's code came from (linux61, linux612-tdp), recorded at configure time by
// cmake/DebianKernelSource.cmake; `mmudiff backends`, run directories and reports print it.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace mmudiff {

struct KernelSourceFile {
  std::string_view path;           // relative to the kernel tree: "arch/arm64/kvm/hyp/pgtable.c"
  std::string_view sha256;         // of the file that was compiled
  std::string_view tested_sha256;  // of the file the backend was tested with

  bool matches_tested() const { return sha256 == tested_sha256; }
};

struct KernelSourceInfo {
  std::string_view package;          // "linux-source-6.1"
  std::string_view package_version;  // as dpkg-query reported it at configure time
  std::string_view tested_package_version;
  std::string_view tarball;  // the tarball the files were extracted from
  std::string_view tree;     // the extracted kernel tree, in the build directory
  std::span<const KernelSourceFile> files;

  // The files compiled are what was tested: another revision of the package with the same files
  // is the same code.
  bool matches_tested() const;
  // One line: package, version and a short hash of each compiled (.c) file, with a note when any
  // file, header or not, differs from the tested one.
  std::string summary() const;
};

}  // namespace mmudiff
