# SPDX-License-Identifier: GPL-2.0-only
# The Linux 6.12 x86 KVM MMU files the linux612-tdp backend compiles, from Debian's
# linux-source-6.12 tarball, and the SHA-256 they had when it was tested (extracted by
# cmake/DebianKernelSource.cmake); and the lifting of the eight mmu.c functions the TDP MMU calls
# out of that 7,883-line file by name.
include(${PROJECT_SOURCE_DIR}/cmake/DebianKernelSource.cmake)

set(MMUDIFF_LINUX612_TARBALL "/usr/src/linux-source-6.12.tar.xz"
    CACHE FILEPATH "Debian's linux-source-6.12 tarball, the source of the linux612-tdp backend")
set(MMUDIFF_LINUX612_PACKAGE "linux-source-6.12")

# The files, relative to the kernel tree, and the SHA-256 they had when this backend was tested.
# The first three are compiled; the headers are included; mmu.c only gives its functions.
set(MMUDIFF_LINUX612_FILES
    arch/x86/kvm/mmu/tdp_mmu.c
    arch/x86/kvm/mmu/tdp_iter.c
    arch/x86/kvm/mmu/spte.c
    arch/x86/kvm/mmu/mmu.c
    arch/x86/kvm/mmu/tdp_mmu.h
    arch/x86/kvm/mmu/tdp_iter.h
    arch/x86/kvm/mmu/spte.h
    arch/x86/kvm/mmu/mmu_internal.h
    arch/x86/kvm/mmu/mmutrace.h
    arch/x86/include/asm/vmx.h
    arch/x86/include/asm/vmxfeatures.h
    arch/x86/include/asm/trapnr.h
    arch/x86/include/uapi/asm/vmx.h)
set(MMUDIFF_LINUX612_TESTED_VERSION "6.12.118-1~deb12u1")
set(MMUDIFF_LINUX612_TESTED_SHA256
    a8795eb1a806270347b2c944bfd9b904b5faaf1bf9b4f56b59e868bab7f703ec
    974040836b34d697c0aa7b4044d7585e159ca93bf641a7715f41bc8b89740b06
    130a47a1777c5c9a81665a7f575e76235a1b384941c1aeff90e877525d521b4f
    0811465166c927bef96afb5b9876ab9ae6bf94944db59c8c37d9e862b697ae82
    f065d209f3910d416ec31bf7355f88d2ef076d6931a88e877d81ac23918def02
    ab314bd9e3a063d849493cd48f48930318cf11efe555dcfc83eab1c719f734a7
    85001b4e9faaeb983b253899717db0528cefd9df7231b898c08895dc6e36026f
    804dda4e435c2be9c38d13725d1353cf92b8a2ddd15404ed9d52811585ef7fc0
    847763c100df6d54b390a5b71d3f5d8a0cee84c1e59884ba6de81cd9f19901c4
    cf1206d68d6c5d04a2597d2147d3a30cb121555256006252414dad9be4271398
    313eae24276800b3086f193435fc0680907a87458adc66a409b94847358a1e2f
    d41bf42c80908cfd01fa9fc9ccfcbd8b69b3fbb7debf12233fa59edc2936a62b
    566dd84d78b59f01bbdcb3955d9e09216e52693d84b767696b5edbfa30c78245)

# What tdp_mmu.c calls in mmu.c, lifted verbatim, in any order (they are emitted in file order).
set(MMUDIFF_LINUX612_LIFTED_FUNCTIONS
    lpage_info_slot
    track_possible_nx_huge_page
    untrack_possible_nx_huge_page
    __kvm_mmu_max_mapping_level
    kvm_mmu_max_mapping_level
    kvm_mmu_hugepage_adjust
    disallowed_hugepage_adjust
    __reset_rsvds_bits_mask_ept)

# linux612_prepare_source(<dest>) extracts into <dest>/linux-source-6.12 and sets, in the caller,
# LINUX612_TREE, LINUX612_VERSION, LINUX612_SHA256 and LINUX612_MATCHES
# (cmake/DebianKernelSource.cmake).
macro(linux612_prepare_source dest)
  debian_kernel_source(
    PREFIX LINUX612 NAME linux612-tdp PACKAGE ${MMUDIFF_LINUX612_PACKAGE}
    TARBALL "${MMUDIFF_LINUX612_TARBALL}" DEST "${dest}"
    WHAT "Linux 6.12's arch/x86/kvm/mmu/tdp_mmu.c" OFF_OPTION "-DMMUDIFF_LINUX612=OFF"
    TESTED_VERSION ${MMUDIFF_LINUX612_TESTED_VERSION}
    FILES ${MMUDIFF_LINUX612_FILES}
    TESTED_SHA256 ${MMUDIFF_LINUX612_TESTED_SHA256})
endmacro()

# linux612_lift_functions(<mmu.c> <out>) writes the definitions of MMUDIFF_LINUX612_LIFTED_FUNCTIONS,
# verbatim and in file order, each after a #line pointing at mmu.c. A definition is found by its
# name, not by line numbers (mmu.c's layout moves between releases): a line that starts with the
# return type and has NAME( followed by parameters and an opening brace, no ';' in between. Its end
# is the brace that closes it; none of the lifted functions has a brace in a comment or string.
function(linux612_lift_functions mmu_c out)
  file(READ "${mmu_c}" text)
  set(found "")
  foreach(name IN LISTS MMUDIFF_LINUX612_LIFTED_FUNCTIONS)
    string(REGEX MATCHALL "\n[a-z_][a-z0-9_ ]*[ *]${name}\\([^;{]*\\)[ \t\n]*{" heads "${text}")
    list(LENGTH heads n)
    if(NOT n EQUAL 1)
      message(FATAL_ERROR "linux612-tdp: ${mmu_c} has ${n} definitions of ${name}, expected 1")
    endif()
    string(FIND "${text}" "${heads}" start)
    math(EXPR start "${start} + 1")  # after the newline
    string(LENGTH "${heads}" head_len)
    math(EXPR open "${start} + ${head_len} - 2")  # the opening brace
    # Match braces within a window no lifted function outgrows.
    string(SUBSTRING "${text}" ${open} 20000 window)
    set(depth 0)
    set(off 0)
    set(end -1)
    while(end LESS 0)
      string(SUBSTRING "${window}" ${off} -1 rest)
      string(FIND "${rest}" "{" o)
      string(FIND "${rest}" "}" c)
      if(c LESS 0)
        message(FATAL_ERROR "linux612-tdp: no closing brace for ${name} in ${mmu_c}")
      endif()
      if(o GREATER_EQUAL 0 AND o LESS c)
        math(EXPR depth "${depth} + 1")
        math(EXPR off "${off} + ${o} + 1")
      else()
        math(EXPR depth "${depth} - 1")
        math(EXPR off "${off} + ${c} + 1")
        if(depth EQUAL 0)
          set(end ${off})
        endif()
      endif()
    endwhile()
    math(EXPR len "${open} - ${start} + ${end}")
    string(SUBSTRING "${text}" ${start} ${len} body)
    string(SUBSTRING "${text}" 0 ${start} before)
    string(REGEX MATCHALL "\n" newlines "${before}")
    list(LENGTH newlines line)
    math(EXPR line "${line} + 1")
    # Sort key: the offset, zero-padded.
    string(LENGTH "000000000${start}" keylen)
    math(EXPR keystart "${keylen} - 9")
    string(SUBSTRING "000000000${start}" ${keystart} 9 key)
    list(APPEND found "${key}:${name}")
    set(body_${name} "${body}")
    set(line_${name} ${line})
  endforeach()
  list(SORT found)
  set(result "/* Generated by mmu/linux612_tdp/cmake/Linux612Source.cmake: functions of ${mmu_c}. */\n")
  foreach(entry IN LISTS found)
    string(REGEX REPLACE "^[0-9]+:" "" name "${entry}")
    string(APPEND result "\n#line ${line_${name}} \"${mmu_c}\"\n${body_${name}}\n")
  endforeach()
  set(old "")
  if(EXISTS "${out}")
    file(READ "${out}" old)
  endif()
  if(NOT old STREQUAL result)
    file(WRITE "${out}" "${result}")
  endif()
endfunction()
