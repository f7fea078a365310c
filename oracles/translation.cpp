// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/translation.h"

namespace mmudiff {

void normalise(Translation* t) {
  std::vector<Mapping> merged;
  for (const Mapping& m : t->mappings) {
    if (!merged.empty()) {
      Mapping& last = merged.back();
      if (last.ipa + last.size == m.ipa && last.pa + last.size == m.pa && last.attrs == m.attrs) {
        last.size += m.size;
        continue;
      }
    }
    merged.push_back(m);
  }
  t->mappings = std::move(merged);
  std::vector<OwnerAnnotation> notes;
  for (const OwnerAnnotation& a : t->annotations) {
    if (!notes.empty()) {
      OwnerAnnotation& last = notes.back();
      if (last.ipa + last.size == a.ipa && last.descriptor == a.descriptor) {
        last.size += a.size;
        continue;
      }
    }
    notes.push_back(a);
  }
  t->annotations = std::move(notes);
}

}  // namespace mmudiff
