# SPDX-License-Identifier: GPL-2.0-only
# Kernel files from a Debian linux-source-X.Y tarball, extracted into the build tree at configure
# time, for a backend that compiles them unmodified (mmu/linux61, mmu/linux612_tdp). Records the
# package's version and the files' SHA-256, and says how they compare with the ones the backend
# was tested with: byte-identical files under a new package revision are said (STATUS), changed
# files are warned about. The kernel files are GPL-2.0-only and are never copied into the source
# tree: they live under the build directory only.
#
# Behind a stamp: a re-configure with the same tarball does not extract again. The tarball and
# the extracted files are configure dependencies, so upgrading the package (or deleting an
# extracted file) makes the next build re-run this.
#
# debian_kernel_source(
#   PREFIX <P>             the variables set in the caller: <P>_TREE (the extracted kernel tree),
#                          <P>_VERSION (the package's version, "unknown" if dpkg does not own the
#                          tarball), <P>_SHA256 (the files' hashes, in FILES order) and <P>_MATCHES
#                          (TRUE when every hash equals the tested one)
#   NAME <backend>         for messages
#   PACKAGE <package>      the Debian package; also the tarball's top-level directory
#   TARBALL <path>         the package's tarball, or a copy of it
#   DEST <dir>             extracted into <dir>/<package>
#   WHAT <text>            what the backend compiles, for the error when the tarball is missing
#   OFF_OPTION <option>    the option that builds without the backend
#   TESTED_VERSION <v>     the package version the backend was tested with
#   FILES <file>...        relative to the kernel tree
#   TESTED_SHA256 <h>...   in FILES order
# )
function(debian_kernel_source)
  cmake_parse_arguments(PARSE_ARGV 0 arg ""
                        "PREFIX;NAME;PACKAGE;TARBALL;DEST;WHAT;OFF_OPTION;TESTED_VERSION"
                        "FILES;TESTED_SHA256")
  set(tarball "${arg_TARBALL}")
  if(NOT EXISTS "${tarball}")
    message(FATAL_ERROR
      "${arg_NAME}: ${tarball} not found.\n"
      "The ${arg_NAME} backend compiles ${arg_WHAT} from Debian's ${arg_PACKAGE} package. Install "
      "it with:\n"
      "    sudo apt-get install --no-install-recommends ${arg_PACKAGE}\n"
      "or point -DMMUDIFF_${arg_PREFIX}_TARBALL=<path> at a copy, or build without this backend: "
      "${arg_OFF_OPTION}")
  endif()

  set(version "unknown")
  find_program(MMUDIFF_DPKG_QUERY dpkg-query)
  mark_as_advanced(MMUDIFF_DPKG_QUERY)
  if(MMUDIFF_DPKG_QUERY)
    # The package's version only if the tarball is the package's own file, not a copy elsewhere.
    execute_process(
      COMMAND ${MMUDIFF_DPKG_QUERY} -S "${tarball}"
      OUTPUT_VARIABLE owner RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(rc EQUAL 0 AND owner MATCHES "^${arg_PACKAGE}:")
      execute_process(
        COMMAND ${MMUDIFF_DPKG_QUERY} -W -f=\${Version} ${arg_PACKAGE}
        OUTPUT_VARIABLE out RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(rc EQUAL 0 AND NOT out STREQUAL "")
        set(version "${out}")
      endif()
    endif()
  endif()

  file(SIZE "${tarball}" tar_size)
  file(TIMESTAMP "${tarball}" tar_mtime "%Y-%m-%dT%H:%M:%S" UTC)
  set(stamp_text "tarball=${tarball}\nsize=${tar_size}\nmtime=${tar_mtime}\nversion=${version}\n")
  set(dest "${arg_DEST}")
  set(tree "${dest}/${arg_PACKAGE}")
  set(stamp "${dest}/extract.stamp")

  set(members "")
  set(have_all TRUE)
  foreach(f IN LISTS arg_FILES)
    list(APPEND members "${arg_PACKAGE}/${f}")
    if(NOT EXISTS "${tree}/${f}")
      set(have_all FALSE)
    endif()
  endforeach()

  set(old_stamp "")
  if(EXISTS "${stamp}")
    file(READ "${stamp}" old_stamp)
  endif()
  if(NOT have_all OR NOT old_stamp STREQUAL stamp_text)
    message(STATUS "${arg_NAME}: extracting ${arg_PACKAGE} ${version} files from ${tarball}")
    file(REMOVE_RECURSE "${tree}")
    file(REMOVE "${stamp}")
    file(MAKE_DIRECTORY "${dest}")
    find_program(MMUDIFF_XZ xz)
    find_program(MMUDIFF_TAR tar)
    mark_as_advanced(MMUDIFF_XZ MMUDIFF_TAR)
    if(MMUDIFF_XZ AND MMUDIFF_TAR)
      # Multi-threaded xz piped to tar is about twice as fast as tar -xJf.
      execute_process(
        COMMAND ${MMUDIFF_XZ} -T0 -dc "${tarball}"
        COMMAND ${MMUDIFF_TAR} -x -C "${dest}" ${members}
        RESULTS_VARIABLE rcs ERROR_VARIABLE err)
    else()
      execute_process(
        COMMAND ${CMAKE_COMMAND} -E tar xf "${tarball}" ${members}
        WORKING_DIRECTORY "${dest}" RESULTS_VARIABLE rcs ERROR_VARIABLE err)
    endif()
    foreach(rc IN LISTS rcs)
      if(NOT rc EQUAL 0)
        message(FATAL_ERROR "${arg_NAME}: extracting from ${tarball} failed (${rcs}): ${err}")
      endif()
    endforeach()
    foreach(f IN LISTS arg_FILES)
      if(NOT EXISTS "${tree}/${f}")
        message(FATAL_ERROR "${arg_NAME}: ${tarball} has no ${arg_PACKAGE}/${f}")
      endif()
    endforeach()
    file(WRITE "${stamp}" "${stamp_text}")
  endif()

  # What was tested is the files compiled: a package revision that leaves them byte-identical is
  # said, not warned about.
  set(hashes "")
  set(matches TRUE)
  foreach(f tested IN ZIP_LISTS arg_FILES arg_TESTED_SHA256)
    file(SHA256 "${tree}/${f}" h)
    list(APPEND hashes "${h}")
    if(NOT h STREQUAL tested)
      set(matches FALSE)
      message(WARNING "${arg_NAME}: ${f} has SHA-256 ${h}; the tested file had ${tested}. "
                      "The kernel code changed: re-run the differential tests before trusting it.")
    endif()
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${tree}/${f}")
  endforeach()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${tarball}")
  if(NOT version STREQUAL arg_TESTED_VERSION)
    if(matches)
      message(STATUS "${arg_NAME}: ${arg_PACKAGE} is version ${version} (tested with "
                     "${arg_TESTED_VERSION}); the compiled files are the tested ones")
    else()
      message(WARNING "${arg_NAME}: ${arg_PACKAGE} is version ${version}; this backend was "
                      "tested with ${arg_TESTED_VERSION}.")
    endif()
  endif()

  set(${arg_PREFIX}_TREE "${tree}" PARENT_SCOPE)
  set(${arg_PREFIX}_VERSION "${version}" PARENT_SCOPE)
  set(${arg_PREFIX}_SHA256 "${hashes}" PARENT_SCOPE)
  set(${arg_PREFIX}_MATCHES ${matches} PARENT_SCOPE)
endfunction()

# kernel_source_info_cpp(<out.cpp> <function> <header> <P> <package> <tested version> <tarball>
#                        FILES <file>... TESTED_SHA256 <h>...)
# writes <out.cpp>, defining `const KernelSourceInfo& <function>()` (mmu/kernel_source_info.h,
# declared in <header>) from what debian_kernel_source(PREFIX <P>) found.
function(kernel_source_info_cpp out function header prefix package tested_version tarball)
  cmake_parse_arguments(PARSE_ARGV 7 arg "" "" "FILES;TESTED_SHA256")
  set(KSI_FUNCTION ${function})
  set(KSI_HEADER ${header})
  set(KSI_PACKAGE ${package})
  set(KSI_VERSION ${${prefix}_VERSION})
  set(KSI_TESTED_VERSION ${tested_version})
  set(KSI_TARBALL ${tarball})
  set(KSI_TREE ${${prefix}_TREE})
  list(LENGTH arg_FILES KSI_FILE_COUNT)
  set(KSI_FILE_ENTRIES "")
  foreach(f h t IN ZIP_LISTS arg_FILES ${prefix}_SHA256 arg_TESTED_SHA256)
    string(APPEND KSI_FILE_ENTRIES "    {\"${f}\", \"${h}\", \"${t}\"},\n")
  endforeach()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/kernel_source_info.cpp.in ${out} @ONLY)
endfunction()
