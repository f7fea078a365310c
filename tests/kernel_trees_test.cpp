// SPDX-License-Identifier: GPL-2.0-only
// -DMMUDIFF_KERNEL_TREES: a tree's kernel API generation, read from its kvm_pgtable.h
// (mmu/kernel_trees/KernelTreeApi.cmake, run here in CMake's script mode on trees made up of
// the declarations as the kernel writes them), and the backends a tree build registers.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "mmu/backend.h"
#include "tests/cli_runner.h"
#include "tests/temp_dir.h"

namespace mmudiff {
namespace {

namespace fs = std::filesystem;
using testing::shell;
using testing::TempDir;

// The declarations that tell the generations apart, spread over lines and aligned with tabs as
// kvm_pgtable.h has them.
constexpr const char* k612Header =
    "struct kvm_pgtable_mm_ops {\n\tvoid\t\t(*free_unlinked_table)(void *addr, s8 level);\n};\n"
    "int kvm_pgtable_stage2_map(struct kvm_pgtable *pgt, u64 addr, u64 size,\n"
    "\t\t\t   u64 phys, enum kvm_pgtable_prot prot,\n"
    "\t\t\t   void *mc, enum kvm_pgtable_walk_flags flags);\n"
    "bool kvm_pgtable_stage2_test_clear_young(struct kvm_pgtable *pgt, u64 addr,\n"
    "\t\t\t\t\t u64 size, bool mkold);\n"
    "int kvm_pgtable_stage2_relax_perms(struct kvm_pgtable *pgt, u64 addr,\n"
    "\t\t\t\t   enum kvm_pgtable_prot prot);\n";
constexpr const char* k61Header =
    "int kvm_pgtable_stage2_map(struct kvm_pgtable *pgt, u64 addr, u64 size,\n"
    "\t\t\t   u64 phys, enum kvm_pgtable_prot prot,\n\t\t\t   void *mc);\n"
    "kvm_pte_t kvm_pgtable_stage2_mkold(struct kvm_pgtable *pgt, u64 addr);\n"
    "bool kvm_pgtable_stage2_is_young(struct kvm_pgtable *pgt, u64 addr);\n"
    "int kvm_pgtable_stage2_relax_perms(struct kvm_pgtable *pgt, u64 addr,\n"
    "\t\t\t\t   enum kvm_pgtable_prot prot);\n";

class KernelTreeApi : public ::testing::Test {
 protected:
  // A tree with the five files the shim compiles, kvm_pgtable.h holding HEADER.
  fs::path tree(const std::string& name, const std::string& header) {
    const fs::path t = dir_ / name;
    for (const char* d : {"arch/arm64/kvm/hyp", "arch/arm64/include/asm"})
      fs::create_directories(t / d);
    for (const char* f :
         {"arch/arm64/kvm/hyp/pgtable.c", "arch/arm64/include/asm/kvm_arm.h",
          "arch/arm64/include/asm/pgtable-hwdef.h", "arch/arm64/include/asm/stage2_pgtable.h"})
      dir_.write(fs::relative(t / f, dir_.path()), "");
    dir_.write(fs::relative(t / "arch/arm64/include/asm/kvm_pgtable.h", dir_.path()), header);
    return t;
  }

  // The generation, or the configure error: `cmake -P` of the function on TREE.
  testing::CliResult generation(const fs::path& t) {
    const fs::path script = dir_.write(
        "detect.cmake", "include(" MMUDIFF_SOURCE_DIR
                        "/mmu/kernel_trees/KernelTreeApi.cmake)\n"
                        "kernel_tree_api_generation(mine \"" +
                            t.string() + "\" generation)\nmessage(\"generation=${generation}\")\n");
    return shell("cmake -P " + script.string() + " 2>&1");
  }

  TempDir dir_;
};

TEST_F(KernelTreeApi, ASixTwelveTreeIsOfTheSixTwelveGeneration) {
  const auto r = generation(tree("a", k612Header));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("generation=6.12"), std::string::npos) << r.out;
}

TEST_F(KernelTreeApi, ASixOneTreeIsOfTheSixOneGeneration) {
  const auto r = generation(tree("b", k61Header));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("generation=6.1\n"), std::string::npos) << r.out;
}

// A series that changes the API: the error names, per generation, what the tree lacks.
TEST_F(KernelTreeApi, ATreeOfNeitherGenerationIsAnErrorNamingWhatIsMissing) {
  std::string changed = k612Header;
  changed.replace(changed.find("bool mkold"), 10, "bool mkold, bool young_only");
  const auto r = generation(tree("c", changed));
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("matches no kernel API generation"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Linux 6.12 API: kvm_pgtable.h lacks "
                       "'kvm_pgtable_stage2_test_clear_young(struct kvm_pgtable *pgt, u64 addr, "
                       "u64 size, bool mkold)'"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Linux 6.1 API: kvm_pgtable.h lacks "
                       "'kvm_pgtable_stage2_mkold(struct kvm_pgtable *pgt, u64 addr)', "
                       "'kvm_pgtable_stage2_is_young(struct kvm_pgtable *pgt, u64 addr)'"),
            std::string::npos)
      << r.out;
}

TEST_F(KernelTreeApi, ATreeWithoutTheShimsFilesIsAnErrorNamingTheFile) {
  const fs::path t = tree("d", k612Header);
  fs::remove(t / "arch/arm64/include/asm/stage2_pgtable.h");
  const auto r = generation(t);
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("has no arch/arm64/include/asm/stage2_pgtable.h: is it a Linux source "
                       "tree?"),
            std::string::npos)
      << r.out;
}

// The 6.12 release this build extracted is of the 6.12 generation, by its own header.
TEST_F(KernelTreeApi, TheReleasedSixTwelveTreeIsDetectedAsSixTwelve) {
  const fs::path released = fs::path(MMUDIFF_BUILD_DIR) / "mmu/linux612/kernel/linux-source-6.12";
  if (!fs::exists(released / "arch/arm64/include/asm/kvm_pgtable.h"))
    GTEST_SKIP() << "linux612 is not in this build";
  const auto r = generation(released);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("generation=6.12"), std::string::npos) << r.out;
  const fs::path old = fs::path(MMUDIFF_BUILD_DIR) / "mmu/linux61/kernel/linux-source-6.1";
  if (fs::exists(old / "arch/arm64/include/asm/kvm_pgtable.h")) {
    const auto r61 = generation(old);
    EXPECT_NE(r61.out.find("generation=6.1\n"), std::string::npos) << r61.out;
  }
}

// A tree built in is a backend of its generation's profile (as its description names it) and
// never the reference; the list a campaign is given of such backends alone, with the release,
// makes it a campaign of that profile.
TEST(KernelTrees, ATreeIsABackendOfItsGenerationsProfileAndNotTheReference) {
  if (find_backend("linux612", Arch::Arm64S2)) {
    EXPECT_EQ(sole_profile({"linux612"}), ProfileId::Arm64Linux612);
  }
  for (const BackendInfo& b : registered_backends()) {
    if (b.description.find("your tree") == std::string_view::npos) continue;
    const bool six_twelve = b.description.find("Linux 6.12 API") != std::string_view::npos;
    ASSERT_TRUE(six_twelve || b.description.find("Linux 6.1 API") != std::string_view::npos)
        << b.description;
    const ProfileId profile = six_twelve ? ProfileId::Arm64Linux612 : ProfileId::Arm64Linux61;
    EXPECT_EQ(b.profiles, profile_bit(profile)) << b.name;
    EXPECT_FALSE(b.reference) << b.name;
    const char* release = six_twelve ? "linux612" : "linux61";
    EXPECT_EQ(sole_profile({release, std::string(b.name)}), profile) << b.name;
  }
  EXPECT_EQ(sole_profile({"walker"}), std::nullopt) << "one walker per architecture";
  EXPECT_EQ(sole_profile({}), std::nullopt);
}

}  // namespace
}  // namespace mmudiff
