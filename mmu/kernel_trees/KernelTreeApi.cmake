# SPDX-License-Identifier: GPL-2.0-only
# kernel_tree_api_generation(<name> <tree> <out-var>)
# Which kernel API generation a tree's arm64 stage-2 code has, read from the declarations of its
# arch/arm64/include/asm/kvm_pgtable.h: "6.12" or "6.1", the generations mmudiff has a shim for.
# A tree that lacks a file the shim compiles, or matches neither generation, is a configure
# error naming what is missing.

# What each generation's shim calls or provides, as kvm_pgtable.h spells it. 6.12: map takes walk
# flags, aging is test_clear_young over a range, and the mm_ops have free_unlinked_table; 6.1:
# mkold and is_young of one address.
set(MMUDIFF_API_6_12_MARKS
    "void *mc, enum kvm_pgtable_walk_flags flags)"
    "kvm_pgtable_stage2_test_clear_young(struct kvm_pgtable *pgt, u64 addr, u64 size, bool mkold)"
    "(*free_unlinked_table)(void *addr, s8 level)"
    "kvm_pgtable_stage2_relax_perms(struct kvm_pgtable *pgt, u64 addr, enum kvm_pgtable_prot prot)")
set(MMUDIFF_API_6_1_MARKS
    "kvm_pgtable_stage2_mkold(struct kvm_pgtable *pgt, u64 addr)"
    "kvm_pgtable_stage2_is_young(struct kvm_pgtable *pgt, u64 addr)"
    "kvm_pgtable_stage2_relax_perms(struct kvm_pgtable *pgt, u64 addr, enum kvm_pgtable_prot prot)")

function(kernel_tree_api_generation name tree out)
  set(files arch/arm64/kvm/hyp/pgtable.c arch/arm64/include/asm/kvm_pgtable.h
            arch/arm64/include/asm/kvm_arm.h arch/arm64/include/asm/pgtable-hwdef.h
            arch/arm64/include/asm/stage2_pgtable.h)
  foreach(f IN LISTS files)
    if(NOT EXISTS "${tree}/${f}")
      message(FATAL_ERROR "MMUDIFF_KERNEL_TREES: tree '${name}' (${tree}) has no ${f}: is it a "
                          "Linux source tree?")
    endif()
  endforeach()
  file(READ "${tree}/arch/arm64/include/asm/kvm_pgtable.h" header)
  # Declarations span lines and align with tabs: compare with the whitespace collapsed.
  string(REGEX REPLACE "[ \t\r\n]+" " " header "${header}")
  set(report "")
  foreach(generation 6_12 6_1)
    set(missing "")
    foreach(mark IN LISTS MMUDIFF_API_${generation}_MARKS)
      string(FIND "${header}" "${mark}" at)
      if(at EQUAL -1)
        list(APPEND missing "'${mark}'")
      endif()
    endforeach()
    string(REPLACE "_" "." dotted ${generation})
    if(NOT missing)
      set(${out} ${dotted} PARENT_SCOPE)
      return()
    endif()
    list(JOIN missing ", " missing)
    string(APPEND report "\n  Linux ${dotted} API: kvm_pgtable.h lacks ${missing}")
  endforeach()
  message(FATAL_ERROR "MMUDIFF_KERNEL_TREES: tree '${name}' (${tree}) matches no kernel API "
                      "generation mmudiff has a shim for:${report}")
endfunction()
