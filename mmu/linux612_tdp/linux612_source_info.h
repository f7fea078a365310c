// SPDX-License-Identifier: GPL-2.0-only
// Where the linux612-tdp backend's kernel code came from, recorded at configure time
// (cmake/Linux612Source.cmake); reports print it.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace mmudiff {

struct Linux612SourceFile {
  std::string_view path;           // relative to the kernel tree: "arch/x86/kvm/mmu/tdp_mmu.c"
  std::string_view sha256;         // of the file that was compiled
  std::string_view tested_sha256;  // of the file this backend was tested with

  bool matches_tested() const { return sha256 == tested_sha256; }
};

struct Linux612SourceInfo {
  std::string_view package;          // "linux-source-6.12"
  std::string_view package_version;  // as dpkg-query reported it at configure time
  std::string_view tested_package_version;
  std::string_view tarball;  // the tarball the files were extracted from
  std::string_view tree;     // the extracted kernel tree, in the build directory
  std::span<const Linux612SourceFile> files;

  bool matches_tested() const;
  // One line: package, version and a short hash of each compiled file, with a note if untested.
  std::string summary() const;
};

const Linux612SourceInfo& linux612_source_info();

}  // namespace mmudiff
