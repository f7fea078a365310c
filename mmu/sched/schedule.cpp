// SPDX-License-Identifier: GPL-2.0-only
#include "mmu/sched/schedule.h"

#include <charconv>

#include <fmt/format.h>

namespace mmudiff::sched {

std::string schedule_text(const Schedule& schedule) {
  std::string out;
  for (const Preemption& p : schedule) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{}>{}", p.after, p.to);
  }
  return out;
}

bool parse_schedule(std::string_view text, Schedule* schedule, std::string* error) {
  Schedule parsed;
  size_t at = 0;
  auto fail = [&](std::string_view what) {
    *error = fmt::format("column {}: {}", at + 1, what);
    return false;
  };
  auto number = [&](uint64_t max, uint64_t* value) {
    const char* begin = text.data() + at;
    auto [end, ec] = std::from_chars(begin, text.data() + text.size(), *value);
    if (ec != std::errc() || end == begin || *value > max) return false;
    at += static_cast<size_t>(end - begin);
    return true;
  };
  while (true) {
    while (at < text.size() && text[at] == ' ') ++at;
    if (at == text.size()) break;
    uint64_t after = 0, to = 0;
    if (!number(UINT32_MAX, &after)) return fail("expected AFTER>VCPU, AFTER a count of points");
    if (at == text.size() || text[at] != '>') return fail("expected '>' after the count");
    ++at;
    if (!number(kMaxVcpus - 1, &to))
      return fail(fmt::format("expected a vCPU number 0-{} after '>'", kMaxVcpus - 1));
    if (at < text.size() && text[at] != ' ') return fail("expected a space between preemptions");
    parsed.push_back({static_cast<uint32_t>(after), static_cast<uint8_t>(to)});
  }
  *schedule = std::move(parsed);
  return true;
}

}  // namespace mmudiff::sched
