// SPDX-License-Identifier: GPL-2.0-only
// The .mmu text parser (mmu/ops/text_format.h) fuzzed for its own sake: every byte string is
// either refused with one InputError line naming the file and line, or accepted as a stream that
// formats back to text which parses to the same stream, and formats identically again. Anything
// else -- another exception, a crash, a stream that does not survive the round trip -- stops the
// fuzzer. Seeds: corpus/seeds and corpus/regressions as text, and fuzz/seeds/text/ (inputs this
// target found, or refusals worth starting from).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "mmu/ops/text_format.h"

namespace {

constexpr std::string_view kFilename = "input.mmu";

[[noreturn]] void fail(std::string_view what, std::string_view text) {
  fmt::print(stderr, "text_parser_fuzzer: {}\n--- input ---\n{}\n--- end ---\n", what, text);
  std::abort();
}

// A refusal is one line that begins "input.mmu:LINE: " with LINE at least 1.
void check_refusal(const std::string& message, std::string_view text) {
  if (message.find('\n') != std::string::npos) fail("error message spans lines: " + message, text);
  std::string_view rest = message;
  if (!rest.starts_with(kFilename) || rest.size() <= kFilename.size() ||
      rest[kFilename.size()] != ':')
    fail("error message does not name the file: " + message, text);
  rest.remove_prefix(kFilename.size() + 1);
  size_t digits = rest.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string_view::npos || rest[0] == '0' ||
      !rest.substr(digits).starts_with(": "))
    fail("error message names no line: " + message, text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  mmudiff::Stream stream;
  try {
    stream = mmudiff::parse_text(text, kFilename);
  } catch (const mmudiff::InputError& e) {
    check_refusal(e.what(), text);
    return 0;
  }
  std::string formatted = mmudiff::format_stream(stream);
  mmudiff::Stream again;
  try {
    again = mmudiff::parse_text(formatted, kFilename);
  } catch (const mmudiff::InputError& e) {
    fail(fmt::format("the formatted stream is refused: {}\n--- formatted ---\n{}", e.what(),
                     formatted),
         text);
  }
  if (again != stream)
    fail(fmt::format("parse(format(s)) != s\n--- formatted ---\n{}", formatted), text);
  if (mmudiff::format_stream(again) != formatted)
    fail(fmt::format("format is not stable\n--- formatted ---\n{}", formatted), text);
  return 0;
}
