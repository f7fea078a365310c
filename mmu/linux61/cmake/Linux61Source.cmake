# SPDX-License-Identifier: GPL-2.0-only
# The five Linux 6.1 files the linux61 backend compiles, from Debian's linux-source-6.1 tarball,
# and the SHA-256 they had when it was tested; extracted by cmake/DebianKernelSource.cmake.
include(${PROJECT_SOURCE_DIR}/cmake/DebianKernelSource.cmake)

set(MMUDIFF_LINUX61_TARBALL "/usr/src/linux-source-6.1.tar.xz"
    CACHE FILEPATH "Debian's linux-source-6.1 tarball, the source of the linux61 backend")
set(MMUDIFF_LINUX61_PACKAGE "linux-source-6.1")

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

# linux61_prepare_source(<dest>) extracts into <dest>/linux-source-6.1 and sets, in the caller,
# LINUX61_TREE, LINUX61_VERSION, LINUX61_SHA256 and LINUX61_MATCHES (cmake/DebianKernelSource.cmake).
macro(linux61_prepare_source dest)
  debian_kernel_source(
    PREFIX LINUX61 NAME linux61 PACKAGE ${MMUDIFF_LINUX61_PACKAGE}
    TARBALL "${MMUDIFF_LINUX61_TARBALL}" DEST "${dest}"
    WHAT "Linux 6.1's arch/arm64/kvm/hyp/pgtable.c" OFF_OPTION "-DMMUDIFF_LINUX61=OFF"
    TESTED_VERSION ${MMUDIFF_LINUX61_TESTED_VERSION}
    FILES ${MMUDIFF_LINUX61_FILES}
    TESTED_SHA256 ${MMUDIFF_LINUX61_TESTED_SHA256})
endmacro()
