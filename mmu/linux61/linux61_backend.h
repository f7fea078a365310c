// SPDX-License-Identifier: GPL-2.0-only
// The linux61 backend: Linux 6.1's arch/arm64/kvm/hyp/pgtable.c, extracted at build time from
// Debian's linux-source-6.1 package and compiled unmodified as C behind a shim of our own
// (shim/prelude.h, linux61_adapter.c). This header names no kernel type.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "mmu/backend.h"

namespace mmudiff {

std::unique_ptr<Arm64S2Backend> make_linux61_backend(Machine& machine, Plant plant);

// Where the compiled kernel code came from, recorded at configure time; reports print it.
struct Linux61SourceFile {
  std::string_view path;           // relative to the kernel tree: "arch/arm64/kvm/hyp/pgtable.c"
  std::string_view sha256;         // of the file that was compiled
  std::string_view tested_sha256;  // of the file this backend was tested with

  bool matches_tested() const { return sha256 == tested_sha256; }
};

struct Linux61SourceInfo {
  std::string_view package;          // "linux-source-6.1"
  std::string_view package_version;  // as dpkg-query reported it at configure time
  std::string_view tested_package_version;
  std::string_view tarball;  // the tarball the files were extracted from
  std::string_view tree;     // the extracted kernel tree, in the build directory
  std::span<const Linux61SourceFile> files;

  bool matches_tested() const;
  // One line: package, version and a short hash of each file, with a note if untested.
  std::string summary() const;
};

const Linux61SourceInfo& linux61_source_info();

}  // namespace mmudiff
