# SPDX-License-Identifier: GPL-2.0-only
# The five Linux 6.12 arm64 files the linux612 backend compiles, from Debian's linux-source-6.12
# tarball (the package linux612-tdp's x86 files come from too), and the SHA-256 they had when it was
# tested; extracted by cmake/DebianKernelSource.cmake.
include(${PROJECT_SOURCE_DIR}/cmake/DebianKernelSource.cmake)

set(MMUDIFF_LINUX612_ARM64_TARBALL "/usr/src/linux-source-6.12.tar.xz"
    CACHE FILEPATH "Debian's linux-source-6.12 tarball, the source of the linux612 (arm64) backend")
set(MMUDIFF_LINUX612_ARM64_PACKAGE "linux-source-6.12")

# The files, relative to the kernel tree, and the SHA-256 they had when this backend was tested:
# the same five as linux61's, in the same order.
set(MMUDIFF_LINUX612_ARM64_FILES
    arch/arm64/kvm/hyp/pgtable.c
    arch/arm64/include/asm/kvm_pgtable.h
    arch/arm64/include/asm/kvm_arm.h
    arch/arm64/include/asm/pgtable-hwdef.h
    arch/arm64/include/asm/stage2_pgtable.h)
set(MMUDIFF_LINUX612_ARM64_TESTED_VERSION "6.12.118-1~deb12u1")
set(MMUDIFF_LINUX612_ARM64_TESTED_SHA256
    502777920ac90618ee53c4de4e031b81bc6a1f4bfb75b5f8f0b061a181284b25
    c39a25ba1a03e4c90add85e84daedb2ef243120aaf49460dbc6a883414801ea4
    3473f716b1b8281b975afaf8dbd054deb16f4d3597ca35faa0e379541d630d36
    07d8f6bdc78a19a72968f883449cf5786a6747917458bdde53cf2fa5e09e86ee
    568bc68e6851675d9f88f20546e31977a3264cff8d82a439cc3f2e7d2d29a8fa)

# linux612_arm64_prepare_source(<dest>) extracts into <dest>/linux-source-6.12 and sets, in the
# caller, LINUX612_ARM64_TREE, LINUX612_ARM64_VERSION, LINUX612_ARM64_SHA256 and
# LINUX612_ARM64_MATCHES (cmake/DebianKernelSource.cmake).
macro(linux612_arm64_prepare_source dest)
  debian_kernel_source(
    PREFIX LINUX612_ARM64 NAME linux612 PACKAGE ${MMUDIFF_LINUX612_ARM64_PACKAGE}
    TARBALL "${MMUDIFF_LINUX612_ARM64_TARBALL}" DEST "${dest}"
    WHAT "Linux 6.12's arch/arm64/kvm/hyp/pgtable.c" OFF_OPTION "-DMMUDIFF_LINUX612_ARM64=OFF"
    TESTED_VERSION ${MMUDIFF_LINUX612_ARM64_TESTED_VERSION}
    FILES ${MMUDIFF_LINUX612_ARM64_FILES}
    TESTED_SHA256 ${MMUDIFF_LINUX612_ARM64_TESTED_SHA256})
endmacro()
