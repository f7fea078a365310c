// SPDX-License-Identifier: GPL-2.0-only
#include "bench/streams64.h"

#include <map>
#include <random>
#include <stdexcept>

#include "mmu/ops/random_stream.h"
#include "oracles/harness.h"

namespace mmudiff::bench {

const std::vector<Stream>& streams64() {
  static const std::vector<Stream> s = [] {
    std::mt19937_64 rng(64);
    RandomStreamOptions opt;
    opt.min_ops = opt.max_ops = 64;
    std::vector<Stream> out;
    while (out.size() < 256) {
      Stream stream = random_stream(rng, opt);
      if (!run_stream(stream, HarnessOptions{}).bound_reached) out.push_back(std::move(stream));
    }
    return out;
  }();
  return s;
}

const std::vector<Stream>& segmented_streams(size_t segments) {
  static std::map<size_t, std::vector<Stream>> by_length;
  if (segments == 0 || streams64().size() % segments != 0)
    throw std::invalid_argument("segmented_streams: segments must divide 256");
  std::vector<Stream>& out = by_length[segments];
  if (!out.empty()) return out;
  Op destroy;
  destroy.kind = OpKind::Destroy;
  for (size_t next = 0; next < streams64().size();) {
    Stream s;
    for (size_t k = 0; k < segments; ++k, ++next) {
      const Stream& segment = streams64()[next];
      s.insert(s.end(), segment.begin(), segment.end());
      s.push_back(destroy);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace mmudiff::bench
