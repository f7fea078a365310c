// SPDX-License-Identifier: GPL-2.0-only
// What run_dir_fuzzer found in the run-directory loader, pinned: a number beyond a double's range,
// a directory where a file should be, a key with a control character in it, and a whole number
// too large for a 64-bit integer are each refused with one line naming the file -- not an abort, a
// multi-line message, or undefined behaviour (which the asan preset's UBSan turns into a failure).
// The inputs are also in fuzz/seeds/run_dir/.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "mmu/ops/text_format.h"
#include "reports/json_schema.h"
#include "reports/run_dir_load.h"
#include "tests/temp_dir.h"

namespace mmudiff {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class RunDirHostile : public mmudiff::testing::ScratchTest {
 protected:
  // The loader's refusal; fails the test if it accepted or threw anything but InputError.
  std::string refusal() {
    try {
      load_run_dir(dir_);
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "accepted";
    return "";
  }
};

TEST_F(RunDirHostile, NumberBeyondADoublesRangeIsRefusedNamingTheFile) {
  write("run.json", "{\"executions\": 1e400}\n");
  std::string message = refusal();
  EXPECT_EQ(message.rfind((dir_ / "run.json").string() + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("1e400"), std::string::npos) << message;
}

TEST_F(RunDirHostile, DirectoryWhereRunJsonShouldBeIsARefusalNotAnAbort) {
  fs::create_directories(dir_ / "run.json" / "input.bin");
  std::string message = refusal();
  EXPECT_EQ(message.rfind((dir_ / "run.json").string() + ": not a regular file", 0), 0u) << message;
}

TEST(RunDirSchemaMessages, KeysWithControlCharactersAreShownOnOneLine) {
  json run = {{"\nengine", "replay"}, {std::string(5000, 'k'), 1}};
  auto errors = schema::builtin_schemas().validate(run, schema::kRun);
  ASSERT_FALSE(errors.empty());
  bool escaped = false;
  for (const std::string& e : errors) {
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    EXPECT_LT(e.size(), 300u) << e;
    escaped = escaped || e.find("'\\x0aengine'") != std::string::npos;
  }
  EXPECT_TRUE(escaped) << errors.front();
}

TEST(RunDirSchemaMessages, WholeNumbersBeyondA64BitIntegerAreNotIntegers) {
  schema::SchemaSet set;
  set.add({{"$id", "i"}, {"type", "integer"}});
  EXPECT_TRUE(set.validate(9007199254740992.0, "i").empty());      // 2^53, a whole number
  EXPECT_TRUE(set.validate(-9223372036854775808.0, "i").empty());  // -2^63
  EXPECT_FALSE(set.validate(9223372036854775808.0, "i").empty());  // 2^63
  EXPECT_FALSE(set.validate(1e300, "i").empty());
  EXPECT_FALSE(set.validate(-1e300, "i").empty());
}

}  // namespace
}  // namespace mmudiff
