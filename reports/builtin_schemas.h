// SPDX-License-Identifier: GPL-2.0-only
// The text of every reports/schema/*.json, compiled in at configure time (builtin_schemas.cpp.in)
// so the binary validates against exactly the schemas in its source tree.
#pragma once

#include <span>
#include <string_view>

namespace mmudiff::schema {

std::span<const std::string_view> builtin_schema_texts();

}  // namespace mmudiff::schema
