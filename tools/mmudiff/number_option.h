// SPDX-License-Identifier: GPL-2.0-only
// Strict numbers for command-line options. CLI11 2.1 reads an unsigned option with strtoull:
// "-1" wraps to 2^64-1, 99999999999999999999 saturates to 2^64-1, "010" is octal 8 and " 5" is 5;
// and a floating-point option takes "nan", which every range check lets through. These
// validators refuse all of that, so an option's value is the number the user wrote or an error
// (exit status 2).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "mmu/ops/text_format.h"

namespace mmudiff::cli {

// Decimal or 0x hex digits that fit in 64 bits, the way a .mmu file writes numbers (without its
// K/M/G/T suffixes); rewritten to plain decimal for CLI11's conversion, so no leading zero can
// turn it octal. Apply with Option::transform, which runs before any range check.
inline CLI::Validator strict_unsigned() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        uint64_t value = 0;
        std::errc ec = parse_plain_number(text, &value);
        if (ec == std::errc::invalid_argument)
          return fmt::format("'{}' is not a non-negative whole number (decimal or 0x hex)", text);
        if (ec == std::errc::result_out_of_range)
          return fmt::format("'{}' does not fit in 64 bits", text);
        text = std::to_string(value);
        return {};
      },
      "UINT", "strict unsigned");
}

// A finite decimal number ("2", "0.5", "1e-1"): no "nan", "inf", hex or surrounding spaces.
inline CLI::Validator finite_decimal() {
  return CLI::Validator(
      [](const std::string& text) -> std::string {
        double value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc{} || end != text.data() + text.size() ||
            !std::isfinite(value))
          return fmt::format("'{}' is not a finite decimal number", text);
        return {};
      },
      "NUMBER", "finite decimal");
}

}  // namespace mmudiff::cli
