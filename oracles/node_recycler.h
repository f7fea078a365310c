// SPDX-License-Identifier: GPL-2.0-only
// A memory resource for a node-based container whose nodes are made and dropped by the thousand
// within one run (the reference model's leaves): a freed node goes on a free list and the next
// allocation of the same size takes it back, in a few instructions. libstdc++'s
// unsynchronized_pool_resource spent ~150 instructions per allocate/deallocate pair here, finding
// the pool and then the chunk by binary search; this knows there is one size. Blocks of any other
// size or alignment go to the upstream resource. Memory is returned when the resource is destroyed.
#pragma once

#include <cstddef>
#include <memory_resource>
#include <vector>

namespace mmudiff {

class NodeRecycler : public std::pmr::memory_resource {
 public:
  explicit NodeRecycler(std::pmr::memory_resource* upstream = std::pmr::new_delete_resource())
      : chunks_(upstream) {}
  NodeRecycler(const NodeRecycler&) = delete;
  NodeRecycler& operator=(const NodeRecycler&) = delete;

 private:
  struct FreeNode {
    FreeNode* next;
  };
  static constexpr size_t kNodesPerChunk = 256;

  void* do_allocate(size_t bytes, size_t align) override {
    if (!serves(bytes, align)) return chunks_.upstream_resource()->allocate(bytes, align);
    if (!free_) refill();
    FreeNode* n = free_;
    free_ = n->next;
    return n;
  }
  void do_deallocate(void* p, size_t bytes, size_t align) override {
    if (!serves(bytes, align)) return chunks_.upstream_resource()->deallocate(p, bytes, align);
    free_ = new (p) FreeNode{free_};
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  static size_t rounded(size_t bytes) {
    return (bytes + alignof(std::max_align_t) - 1) & ~(alignof(std::max_align_t) - 1);
  }
  // The first size asked for is the node size: a std::map allocates nothing else.
  bool serves(size_t bytes, size_t align) {
    if (align > alignof(std::max_align_t) || bytes < sizeof(FreeNode)) return false;
    if (node_size_ == 0) node_size_ = rounded(bytes);
    return rounded(bytes) == node_size_;
  }
  void refill() {
    auto* chunk = static_cast<std::byte*>(
        chunks_.allocate(node_size_ * kNodesPerChunk, alignof(std::max_align_t)));
    for (size_t i = kNodesPerChunk; i-- > 0;) free_ = new (chunk + i * node_size_) FreeNode{free_};
  }

  // Chunks are never given back one by one; a monotonic resource frees them all at the end.
  std::pmr::monotonic_buffer_resource chunks_;
  FreeNode* free_ = nullptr;
  size_t node_size_ = 0;
};

}  // namespace mmudiff
