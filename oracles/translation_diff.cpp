// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/translation_diff.h"

#include <algorithm>

#include <fmt/format.h>

namespace mmudiff {

namespace {

// The mapping covering ipa, if any, advancing *cursor through the sorted list.
const Mapping* covering(const std::vector<Mapping>& m, size_t* cursor, uint64_t ipa) {
  while (*cursor < m.size() && m[*cursor].ipa + m[*cursor].size <= ipa) ++*cursor;
  if (*cursor < m.size() && m[*cursor].ipa <= ipa) return &m[*cursor];
  return nullptr;
}

uint64_t next_boundary(const std::vector<Mapping>& m, size_t cursor, uint64_t ipa) {
  if (cursor >= m.size()) return ~uint64_t{0};
  if (m[cursor].ipa > ipa) return m[cursor].ipa;
  return m[cursor].ipa + m[cursor].size;
}

// Access a mapping grants, as four bits: R, W, and execution at the privileged and unprivileged
// level, as the format reads its attribute bits (arm64: S2AP and XN[1:0], see
// DescriptorFormat::permissions).
constexpr unsigned kAccessR = 8, kAccessW = 4, kAccessXEl1 = 2, kAccessXEl0 = 1;

unsigned access(const DescriptorFormat& f, uint64_t attrs) {
  Permissions p = f.permissions(attrs);
  return (p.read ? kAccessR : 0u) | (p.write ? kAccessW : 0u) |
         (p.exec_privileged ? kAccessXEl1 : 0u) | (p.exec_unprivileged ? kAccessXEl0 : 0u);
}

std::string access_text(unsigned a) {
  std::string s;
  s += (a & kAccessR) ? 'r' : '-';
  s += (a & kAccessW) ? 'w' : '-';
  unsigned x = a & (kAccessXEl1 | kAccessXEl0);
  s += x == (kAccessXEl1 | kAccessXEl0) ? "x"
       : x == kAccessXEl1               ? "x(EL1 only)"
       : x                              ? "x(EL0 only)"
                                        : "-";
  return s;
}

}  // namespace

std::string describe_mapping_attrs(uint64_t attrs, const DescriptorFormat& format) {
  return fmt::format("{} {}", access_text(access(format, attrs)),
                     format.describe_attributes(attrs));
}

// The first difference in IPA order decides nothing by itself: a missing mapping below a leaked
// one must not hide the leak. Each class keeps its first difference; the most severe one wins.
std::optional<TranslationDifference> compare_translations(const Translation& actual,
                                                          const Translation& expected,
                                                          const DescriptorFormat& format) {
  auto describe_attrs = [&](uint64_t attrs) { return describe_mapping_attrs(attrs, format); };
  std::optional<TranslationDifference> security, functional;
  auto note = [&](Severity s, uint64_t ipa, std::string what) {
    auto& slot = s == Severity::Security ? security : functional;
    if (!slot) slot = TranslationDifference{s, ipa, std::move(what)};
  };
  size_t ca = 0, ce = 0;
  uint64_t ipa = 0;
  const auto& A = actual.mappings;
  const auto& E = expected.mappings;
  if (!A.empty() || !E.empty()) {
    ipa = std::min(A.empty() ? ~uint64_t{0} : A.front().ipa,
                   E.empty() ? ~uint64_t{0} : E.front().ipa);
  }
  while (!security && (ca < A.size() || ce < E.size())) {
    const Mapping* a = covering(A, &ca, ipa);
    const Mapping* e = covering(E, &ce, ipa);
    if (a && !e)
      note(Severity::Security, ipa,
           fmt::format("IPA {:#x}: maps PA {:#x} ({}) where the reference maps nothing", ipa,
                       a->pa + (ipa - a->ipa), describe_attrs(a->attrs)));
    if (!a && e)
      note(Severity::Functional, ipa,
           fmt::format("IPA {:#x}: not mapped; the reference maps PA {:#x} ({})", ipa,
                       e->pa + (ipa - e->ipa), describe_attrs(e->attrs)));
    if (a && e) {
      uint64_t pa = a->pa + (ipa - a->ipa), pe = e->pa + (ipa - e->ipa);
      unsigned xa = access(format, a->attrs), xe = access(format, e->attrs);
      if (pa != pe)
        note(Severity::Security, ipa,
             fmt::format("IPA {:#x}: maps PA {:#x}; the reference maps PA {:#x}", ipa, pa, pe));
      else if (xa & ~xe)
        note(Severity::Security, ipa,
             fmt::format("IPA {:#x}: grants {}; the reference grants only {}", ipa, access_text(xa),
                         access_text(xe)));
      else if (a->attrs != e->attrs)
        note(Severity::Functional, ipa,
             fmt::format("IPA {:#x}: attributes {}; the reference has {}", ipa,
                         describe_attrs(a->attrs), describe_attrs(e->attrs)));
    }
    uint64_t next = std::min(next_boundary(A, ca, ipa), next_boundary(E, ce, ipa));
    if (next <= ipa) break;  // wrapped past the top of the address space
    ipa = next;
  }
  if (security) return security;
  if (!functional && actual.annotations != expected.annotations) {
    size_t i = 0;
    while (i < actual.annotations.size() && i < expected.annotations.size() &&
           actual.annotations[i] == expected.annotations[i])
      ++i;
    auto show = [](const std::vector<OwnerAnnotation>& v, size_t i) {
      return i < v.size()
                 ? fmt::format("IPA {:#x} +{:#x} = {:#x}", v[i].ipa, v[i].size, v[i].descriptor)
                 : std::string("nothing");
    };
    uint64_t at =
        i < actual.annotations.size() ? actual.annotations[i].ipa : expected.annotations[i].ipa;
    note(Severity::Functional, at,
         fmt::format("owner annotations differ: {}; the reference has {}",
                     show(actual.annotations, i), show(expected.annotations, i)));
  }
  return functional;
}

}  // namespace mmudiff
