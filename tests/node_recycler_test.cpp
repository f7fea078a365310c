// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/node_recycler.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>

namespace mmudiff {
namespace {

// Counts what reaches the upstream resource, so a test can tell recycled nodes from new ones.
class CountingResource : public std::pmr::memory_resource {
 public:
  size_t allocations = 0, deallocations = 0;

 private:
  void* do_allocate(size_t bytes, size_t align) override {
    ++allocations;
    return std::pmr::new_delete_resource()->allocate(bytes, align);
  }
  void do_deallocate(void* p, size_t bytes, size_t align) override {
    ++deallocations;
    std::pmr::new_delete_resource()->deallocate(p, bytes, align);
  }
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
    return this == &o;
  }
};

TEST(NodeRecycler, AFreedNodeIsTheNextOneGiven) {
  NodeRecycler r;
  void* a = r.allocate(48, 8);
  void* b = r.allocate(48, 8);
  EXPECT_NE(a, b);
  r.deallocate(a, 48, 8);
  EXPECT_EQ(r.allocate(48, 8), a);
  r.deallocate(b, 48, 8);
  EXPECT_EQ(r.allocate(40, 8), b);  // same size class once rounded
}

TEST(NodeRecycler, OtherSizesGoUpstreamAndComeBack) {
  CountingResource upstream;
  {
    NodeRecycler r(&upstream);
    void* node = r.allocate(48, 8);  // the node size; takes one chunk
    const size_t after_first_chunk = upstream.allocations;
    EXPECT_EQ(after_first_chunk, 1u);
    void* big = r.allocate(4096, 8);
    EXPECT_EQ(upstream.allocations, after_first_chunk + 1);
    r.deallocate(big, 4096, 8);
    EXPECT_EQ(upstream.deallocations, 1u);
    r.deallocate(node, 48, 8);
    EXPECT_EQ(upstream.deallocations, 1u);  // nodes stay for reuse
  }
  EXPECT_EQ(upstream.deallocations, upstream.allocations);  // chunks returned at the end
}

TEST(NodeRecycler, AMapThatChurnsKeepsItsMemoryBounded) {
  CountingResource upstream;
  NodeRecycler r(&upstream);
  std::pmr::map<uint64_t, uint64_t> m(&r);
  std::map<uint64_t, uint64_t> expected;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    uint64_t k = rng() % 1000;
    if (rng() % 2) {
      m[k] = uint64_t(i);
      expected[k] = uint64_t(i);
    } else {
      m.erase(k);
      expected.erase(k);
    }
  }
  EXPECT_TRUE(std::equal(m.begin(), m.end(), expected.begin(), expected.end()));
  // At most 1,000 live nodes: the chunks cover those, not the 100,000 insertions.
  EXPECT_LE(upstream.allocations, 1000u / 256 + 2);
}

}  // namespace
}  // namespace mmudiff
