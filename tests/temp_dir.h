// SPDX-License-Identifier: GPL-2.0-only
// A scratch directory for a test's inputs and outputs: fresh and empty when the test starts, gone
// with everything in it when the test ends, however it ends (an ASSERT returns early).
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace mmudiff::testing {

// The running test's suite and name as one file name: parameterised tests carry a '/' in both.
inline std::string current_test_file_name() {
  const ::testing::TestInfo* t = ::testing::UnitTest::GetInstance()->current_test_info();
  if (!t) return "no_test";
  std::string name = std::string(t->test_suite_name()) + "." + t->name();
  std::replace(name.begin(), name.end(), '/', '_');
  return name;
}

class TempDir {
 public:
  // Whether a failed test's directory stays behind for a look at what the CLI wrote.
  enum class OnFailure { kRemove, kKeep };

  // mmudiff_TAG_PID in the system's temporary directory: the pid keeps concurrent test processes
  // apart; whatever an earlier process of the same pid left there is removed first.
  explicit TempDir(std::string_view tag = current_test_file_name(),
                   OnFailure on_failure = OnFailure::kRemove)
      : path_(std::filesystem::temp_directory_path() /
              ("mmudiff_" + std::string(tag) + "_" + std::to_string(::getpid()))),
        on_failure_(on_failure) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    if (on_failure_ == OnFailure::kKeep && ::testing::Test::HasFailure()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // So that a TempDir goes wherever the code under test takes a directory.
  operator const std::filesystem::path&() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& rel) const { return path_ / rel; }

  // Writes text, byte for byte, to rel below the directory (whose parent must exist): its path.
  std::filesystem::path write(const std::filesystem::path& rel, std::string_view text) const {
    std::filesystem::path p = path_ / rel;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  std::filesystem::path path_;
  OnFailure on_failure_;
};

// A fixture whose tests each get a TempDir named after the test: dir_ is its path.
class ScratchTest : public ::testing::Test {
 protected:
  explicit ScratchTest(TempDir::OnFailure on_failure = TempDir::OnFailure::kRemove)
      : scratch_(current_test_file_name(), on_failure), dir_(scratch_.path()) {}

  // Writes text to name below dir_: its path, as a string to splice into a command line.
  std::string write(const std::string& name, std::string_view text) {
    return scratch_.write(name, text).string();
  }

  TempDir scratch_;
  const std::filesystem::path dir_;
};

}  // namespace mmudiff::testing
