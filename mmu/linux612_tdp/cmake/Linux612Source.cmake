# SPDX-License-Identifier: GPL-2.0-only
# Extracts the Linux 6.12 x86 KVM MMU files the linux612-tdp backend compiles from Debian's
# linux-source-6.12 tarball into the build tree, records the package version and the files'
# SHA-256, warns when they differ from the ones this backend was tested with, and lifts the eight
# mmu.c functions the TDP MMU calls out of that 7,883-line file by name. The kernel files are
# GPL-2.0-only and are never copied into the source tree: they live under the build directory.
#
# Runs at configure time, behind a stamp: a re-configure with the same tarball does not extract
# again. The tarball and the extracted files are configure dependencies, so upgrading the package
# makes the next build re-run this.

set(MMUDIFF_LINUX612_TARBALL "/usr/src/linux-source-6.12.tar.xz"
    CACHE FILEPATH "Debian's linux-source-6.12 tarball, the source of the linux612-tdp backend")
set(MMUDIFF_LINUX612_PACKAGE "linux-source-6.12")
set(MMUDIFF_LINUX612_TOPDIR "linux-source-6.12")

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

# linux612_prepare_source(<dest>) extracts into <dest>/linux-source-6.12 and sets, in the caller:
#   LINUX612_TREE      the extracted kernel tree
#   LINUX612_VERSION   the package's version ("unknown" if dpkg does not own the tarball)
#   LINUX612_SHA256    the files' SHA-256, in MMUDIFF_LINUX612_FILES order
#   LINUX612_MATCHES   TRUE when version and every hash equal the tested ones
function(linux612_prepare_source dest)
  set(tarball "${MMUDIFF_LINUX612_TARBALL}")
  if(NOT EXISTS "${tarball}")
    message(FATAL_ERROR
      "linux612-tdp: ${tarball} not found.\n"
      "The linux612-tdp backend compiles Linux 6.12's arch/x86/kvm/mmu/tdp_mmu.c from Debian's "
      "${MMUDIFF_LINUX612_PACKAGE} package. Install it with:\n"
      "    sudo apt-get install --no-install-recommends ${MMUDIFF_LINUX612_PACKAGE}\n"
      "or point -DMMUDIFF_LINUX612_TARBALL=<path> at a copy, or build without this backend: "
      "-DMMUDIFF_LINUX612=OFF")
  endif()

  set(version "unknown")
  find_program(LINUX612_DPKG_QUERY dpkg-query)
  mark_as_advanced(LINUX612_DPKG_QUERY)
  if(LINUX612_DPKG_QUERY)
    execute_process(
      COMMAND ${LINUX612_DPKG_QUERY} -S "${tarball}"
      OUTPUT_VARIABLE owner RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(rc EQUAL 0 AND owner MATCHES "^${MMUDIFF_LINUX612_PACKAGE}:")
      execute_process(
        COMMAND ${LINUX612_DPKG_QUERY} -W -f=\${Version} ${MMUDIFF_LINUX612_PACKAGE}
        OUTPUT_VARIABLE out RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(rc EQUAL 0 AND NOT out STREQUAL "")
        set(version "${out}")
      endif()
    endif()
  endif()

  file(SIZE "${tarball}" tar_size)
  file(TIMESTAMP "${tarball}" tar_mtime "%Y-%m-%dT%H:%M:%S" UTC)
  set(stamp_text "tarball=${tarball}\nsize=${tar_size}\nmtime=${tar_mtime}\nversion=${version}\n")
  set(tree "${dest}/${MMUDIFF_LINUX612_TOPDIR}")
  set(stamp "${dest}/extract.stamp")

  set(members "")
  set(have_all TRUE)
  foreach(f IN LISTS MMUDIFF_LINUX612_FILES)
    list(APPEND members "${MMUDIFF_LINUX612_TOPDIR}/${f}")
    if(NOT EXISTS "${tree}/${f}")
      set(have_all FALSE)
    endif()
  endforeach()

  set(old_stamp "")
  if(EXISTS "${stamp}")
    file(READ "${stamp}" old_stamp)
  endif()
  if(NOT have_all OR NOT old_stamp STREQUAL stamp_text)
    message(STATUS "linux612-tdp: extracting ${MMUDIFF_LINUX612_PACKAGE} ${version} files from ${tarball}")
    file(REMOVE_RECURSE "${tree}")
    file(REMOVE "${stamp}")
    file(MAKE_DIRECTORY "${dest}")
    find_program(LINUX612_XZ xz)
    find_program(LINUX612_TAR tar)
    mark_as_advanced(LINUX612_XZ LINUX612_TAR)
    if(LINUX612_XZ AND LINUX612_TAR)
      # Multi-threaded xz piped to tar is about twice as fast as tar -xJf.
      execute_process(
        COMMAND ${LINUX612_XZ} -T0 -dc "${tarball}"
        COMMAND ${LINUX612_TAR} -x -C "${dest}" ${members}
        RESULTS_VARIABLE rcs ERROR_VARIABLE err)
    else()
      execute_process(
        COMMAND ${CMAKE_COMMAND} -E tar xf "${tarball}" ${members}
        WORKING_DIRECTORY "${dest}" RESULTS_VARIABLE rcs ERROR_VARIABLE err)
    endif()
    foreach(rc IN LISTS rcs)
      if(NOT rc EQUAL 0)
        message(FATAL_ERROR "linux612-tdp: extracting from ${tarball} failed (${rcs}): ${err}")
      endif()
    endforeach()
    foreach(f IN LISTS MMUDIFF_LINUX612_FILES)
      if(NOT EXISTS "${tree}/${f}")
        message(FATAL_ERROR "linux612-tdp: ${tarball} has no ${MMUDIFF_LINUX612_TOPDIR}/${f}")
      endif()
    endforeach()
    file(WRITE "${stamp}" "${stamp_text}")
  endif()

  set(hashes "")
  set(matches TRUE)
  if(NOT version STREQUAL MMUDIFF_LINUX612_TESTED_VERSION)
    set(matches FALSE)
    message(WARNING "linux612-tdp: ${MMUDIFF_LINUX612_PACKAGE} is version ${version}; this backend "
                    "was tested with ${MMUDIFF_LINUX612_TESTED_VERSION}. Results may differ from "
                    "the tested kernel code.")
  endif()
  foreach(f tested IN ZIP_LISTS MMUDIFF_LINUX612_FILES MMUDIFF_LINUX612_TESTED_SHA256)
    file(SHA256 "${tree}/${f}" h)
    list(APPEND hashes "${h}")
    if(NOT h STREQUAL tested)
      set(matches FALSE)
      message(WARNING "linux612-tdp: ${f} has SHA-256 ${h}; the tested file had ${tested}. "
                      "The kernel code changed: re-run the tests before trusting it.")
    endif()
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${tree}/${f}")
  endforeach()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${tarball}")

  set(LINUX612_TREE "${tree}" PARENT_SCOPE)
  set(LINUX612_VERSION "${version}" PARENT_SCOPE)
  set(LINUX612_SHA256 "${hashes}" PARENT_SCOPE)
  set(LINUX612_MATCHES ${matches} PARENT_SCOPE)
endfunction()

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
