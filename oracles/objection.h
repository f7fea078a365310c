// SPDX-License-Identifier: GPL-2.0-only
// What every oracle says when it objects: how bad it is, which of its rules fired, one line on
// what it saw, and where. Oracles judge one backend at a time (or one backend against the
// reference); the harness adds the oracle's name and the backend when it turns an objection into
// a Finding, so objections of different backends compare as values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oracles/verdict.h"

namespace mmudiff {

struct Objection {
  Severity severity;
  std::string rule;                  // "tlb-staleness", "refcount", "break-before-make", ...
  std::string what;                  // one line, without the backend's name
  std::optional<uint64_t> ipa = {};  // the address it is about, when there is one
  std::vector<std::string> evidence = {};

  // Equal objections from every backend, the reference included, are how the reference itself
  // behaves: the evidence may name backend-specific things (table addresses) and is not compared.
  bool same_as(const Objection& o) const {
    return severity == o.severity && rule == o.rule && what == o.what;
  }
};

}  // namespace mmudiff
