# SPDX-License-Identifier: GPL-2.0-only
# Extracts the five Linux 6.1 files the linux61 backend compiles from Debian's linux-source-6.1
# tarball into the build tree, records the package version and the files' SHA-256, and warns when
# they differ from the ones this backend was tested with. The kernel files are GPL-2.0-only and
# are never copied into the source tree: they live under the build directory only.
#
# Runs at configure time, behind a stamp: a re-configure with the same tarball does nothing. The
# tarball and the extracted files are configure dependencies, so upgrading the package (or deleting
# an extracted file) makes the next build re-run this.

set(MMUDIFF_LINUX61_TARBALL "/usr/src/linux-source-6.1.tar.xz"
    CACHE FILEPATH "Debian's linux-source-6.1 tarball, the source of the linux61 backend")
set(MMUDIFF_LINUX61_PACKAGE "linux-source-6.1")
set(MMUDIFF_LINUX61_TOPDIR "linux-source-6.1")  # the tarball's top-level directory

# The files, relative to the kernel tree, and the SHA-256 they had when this backend was tested.
set(MMUDIFF_LINUX61_FILES
    arch/arm64/kvm/hyp/pgtable.c
    arch/arm64/include/asm/kvm_pgtable.h
    arch/arm64/include/asm/kvm_arm.h
    arch/arm64/include/asm/pgtable-hwdef.h
    arch/arm64/include/asm/stage2_pgtable.h)
set(MMUDIFF_LINUX61_TESTED_VERSION "6.1.192-2")
set(MMUDIFF_LINUX61_TESTED_SHA256
    6c69f60b0c3ffdf3ab1c1547bcf91bc8d7d9781cc2635701ff6a20d77b9d8240
    914a026c13aa66f0526044c8954336dfc54906968c63e33326e2561e18910dae
    f1234920ff3837660d5320d6e017d827f2bfd0a954d9f20afb124cb84fc23f89
    2ed97178a95513598ece754695fbe5feb8dcc1209096f0b19a9a08342138e527
    145894f24656613b56e77544e29869ce463e9e510f383c9cdacf21ab6aa02c86)

# linux61_prepare_source(<dest>) extracts into <dest>/linux-source-6.1 and sets, in the caller:
#   LINUX61_TREE        the extracted kernel tree
#   LINUX61_VERSION     the package's version ("unknown" if dpkg does not own the tarball)
#   LINUX61_SHA256      the files' SHA-256, in MMUDIFF_LINUX61_FILES order
#   LINUX61_MATCHES     TRUE when version and every hash equal the tested ones
function(linux61_prepare_source dest)
  set(tarball "${MMUDIFF_LINUX61_TARBALL}")
  if(NOT EXISTS "${tarball}")
    message(FATAL_ERROR
      "linux61: ${tarball} not found.\n"
      "The linux61 backend compiles Linux 6.1's arch/arm64/kvm/hyp/pgtable.c from Debian's "
      "${MMUDIFF_LINUX61_PACKAGE} package. Install it with:\n"
      "    sudo apt-get install --no-install-recommends ${MMUDIFF_LINUX61_PACKAGE}\n"
      "or point -DMMUDIFF_LINUX61_TARBALL=<path> at a copy, or build without this backend: "
      "-DMMUDIFF_LINUX61=OFF")
  endif()

  set(version "unknown")
  find_program(LINUX61_DPKG_QUERY dpkg-query)
  mark_as_advanced(LINUX61_DPKG_QUERY)
  if(LINUX61_DPKG_QUERY)
    # The package's version only if the tarball is the package's own file, not a copy elsewhere.
    execute_process(
      COMMAND ${LINUX61_DPKG_QUERY} -S "${tarball}"
      OUTPUT_VARIABLE owner RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(rc EQUAL 0 AND owner MATCHES "^${MMUDIFF_LINUX61_PACKAGE}:")
      execute_process(
        COMMAND ${LINUX61_DPKG_QUERY} -W -f=\${Version} ${MMUDIFF_LINUX61_PACKAGE}
        OUTPUT_VARIABLE out RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(rc EQUAL 0 AND NOT out STREQUAL "")
        set(version "${out}")
      endif()
    endif()
  endif()

  file(SIZE "${tarball}" tar_size)
  file(TIMESTAMP "${tarball}" tar_mtime "%Y-%m-%dT%H:%M:%S" UTC)
  set(stamp_text "tarball=${tarball}\nsize=${tar_size}\nmtime=${tar_mtime}\nversion=${version}\n")
  set(tree "${dest}/${MMUDIFF_LINUX61_TOPDIR}")
  set(stamp "${dest}/extract.stamp")

  set(members "")
  set(have_all TRUE)
  foreach(f IN LISTS MMUDIFF_LINUX61_FILES)
    list(APPEND members "${MMUDIFF_LINUX61_TOPDIR}/${f}")
    if(NOT EXISTS "${tree}/${f}")
      set(have_all FALSE)
    endif()
  endforeach()

  set(old_stamp "")
  if(EXISTS "${stamp}")
    file(READ "${stamp}" old_stamp)
  endif()
  if(NOT have_all OR NOT old_stamp STREQUAL stamp_text)
    message(STATUS "linux61: extracting ${MMUDIFF_LINUX61_PACKAGE} ${version} files from ${tarball}")
    file(REMOVE_RECURSE "${tree}")
    file(REMOVE "${stamp}")
    file(MAKE_DIRECTORY "${dest}")
    find_program(LINUX61_XZ xz)
    find_program(LINUX61_TAR tar)
    mark_as_advanced(LINUX61_XZ LINUX61_TAR)
    if(LINUX61_XZ AND LINUX61_TAR)
      # Multi-threaded xz piped to tar is about twice as fast as tar -xJf.
      execute_process(
        COMMAND ${LINUX61_XZ} -T0 -dc "${tarball}"
        COMMAND ${LINUX61_TAR} -x -C "${dest}" ${members}
        RESULTS_VARIABLE rcs ERROR_VARIABLE err)
    else()
      execute_process(
        COMMAND ${CMAKE_COMMAND} -E tar xf "${tarball}" ${members}
        WORKING_DIRECTORY "${dest}" RESULTS_VARIABLE rcs ERROR_VARIABLE err)
    endif()
    foreach(rc IN LISTS rcs)
      if(NOT rc EQUAL 0)
        message(FATAL_ERROR "linux61: extracting from ${tarball} failed (${rcs}): ${err}")
      endif()
    endforeach()
    foreach(f IN LISTS MMUDIFF_LINUX61_FILES)
      if(NOT EXISTS "${tree}/${f}")
        message(FATAL_ERROR "linux61: ${tarball} has no ${MMUDIFF_LINUX61_TOPDIR}/${f}")
      endif()
    endforeach()
    file(WRITE "${stamp}" "${stamp_text}")
  endif()

  # What was tested is the files compiled: a package revision that leaves them byte-identical is
  # said, not warned about.
  set(hashes "")
  set(matches TRUE)
  foreach(f tested IN ZIP_LISTS MMUDIFF_LINUX61_FILES MMUDIFF_LINUX61_TESTED_SHA256)
    file(SHA256 "${tree}/${f}" h)
    list(APPEND hashes "${h}")
    if(NOT h STREQUAL tested)
      set(matches FALSE)
      message(WARNING "linux61: ${f} has SHA-256 ${h}; the tested file had ${tested}. "
                      "The kernel code changed: re-run the differential tests before trusting it.")
    endif()
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${tree}/${f}")
  endforeach()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${tarball}")
  if(NOT version STREQUAL MMUDIFF_LINUX61_TESTED_VERSION)
    if(matches)
      message(STATUS "linux61: ${MMUDIFF_LINUX61_PACKAGE} is version ${version} (tested with "
                     "${MMUDIFF_LINUX61_TESTED_VERSION}); the compiled files are the tested ones")
    else()
      message(WARNING "linux61: ${MMUDIFF_LINUX61_PACKAGE} is version ${version}; this backend was "
                      "tested with ${MMUDIFF_LINUX61_TESTED_VERSION}.")
    endif()
  endif()

  set(LINUX61_TREE "${tree}" PARENT_SCOPE)
  set(LINUX61_VERSION "${version}" PARENT_SCOPE)
  set(LINUX61_SHA256 "${hashes}" PARENT_SCOPE)
  set(LINUX61_MATCHES ${matches} PARENT_SCOPE)
endfunction()
