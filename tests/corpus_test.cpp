// SPDX-License-Identifier: GPL-2.0-only
// The bundled streams, replayed through every backend in this build:
//  - corpus/seeds/*.mmu must be equivalent everywhere;
//  - corpus/regressions/*.mmu carry their expected verdict in a "# expect: ..." line, either
//    "equivalent" or a finding signature prefix such as "functional/return-codes".
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mmu/ops/text_format.h"
#include "oracles/harness.h"

namespace {

namespace fs = std::filesystem;
using namespace mmudiff;

std::vector<std::string> mmu_files(const char* dir) {
  std::vector<std::string> out;
  fs::path d = fs::path(MMUDIFF_SOURCE_DIR) / dir;
  if (!fs::exists(d)) return out;
  for (const auto& e : fs::directory_iterator(d))
    if (e.path().extension() == ".mmu") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string directive(const std::string& text, const std::string& key) {
  std::string tag = "# " + key + ":";
  size_t p = text.find(tag);
  if (p == std::string::npos) return "";
  size_t start = text.find_first_not_of(' ', p + tag.size());
  size_t end = text.find('\n', start);
  return text.substr(start, end - start);
}

std::string describe(const StreamReport& r) {
  std::string s;
  for (const auto& f : r.findings) {
    s += "[" + f.signature() + "] " + f.summary + "\n";
    for (const auto& e : f.evidence) s += "    " + e + "\n";
  }
  return s;
}

class Seeds : public ::testing::TestWithParam<std::string> {};

TEST_P(Seeds, AreEquivalentOnEveryBackend) {
  std::string text = slurp(GetParam());
  Stream stream = parse_text(text, GetParam());
  ASSERT_FALSE(stream.empty());
  HarnessOptions options;
  options.check_every_op = true;
  StreamReport r = run_stream(stream, options);
  EXPECT_FALSE(r.bound_reached);
  EXPECT_TRUE(r.findings.empty()) << describe(r);
}

INSTANTIATE_TEST_SUITE_P(Corpus, Seeds, ::testing::ValuesIn(mmu_files("corpus/seeds")),
                         [](const auto& info) {
                           std::string n = fs::path(info.param).stem().string();
                           for (auto& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(SeedCorpus, IsNotEmpty) {
  EXPECT_GE(mmu_files("corpus/seeds").size(), 5u);
}

class Regressions : public ::testing::TestWithParam<std::string> {};

TEST_P(Regressions, ReplayToTheirExpectedVerdict) {
  std::string text = slurp(GetParam());
  std::string expect = directive(text, "expect");
  ASSERT_FALSE(expect.empty()) << GetParam() << " has no '# expect:' line";
  HarnessOptions options;
  std::string backends = directive(text, "backends");
  if (!backends.empty()) {
    std::stringstream ss(backends);
    for (std::string b; std::getline(ss, b, ',');) {
      if (!find_backend(b)) GTEST_SKIP() << "backend " << b << " is not in this build";
      options.backends.push_back(b);
    }
  }
  StreamReport r = run_stream(parse_text(text, GetParam()), options);
  if (expect == "equivalent") {
    EXPECT_TRUE(r.equivalent()) << describe(r);
  } else {
    ASSERT_FALSE(r.findings.empty()) << "expected " << expect;
    EXPECT_EQ(r.worst()->signature().rfind(expect, 0), 0u) << describe(r);
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, Regressions, ::testing::ValuesIn(mmu_files("corpus/regressions")),
                         [](const auto& info) {
                           std::string n = fs::path(info.param).stem().string();
                           for (auto& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Regressions);

}  // namespace
