/* SPDX-License-Identifier: MIT */
/*
 * Stage images: only static ELF executables (a dynamic loader would pull in host libraries the
 * measurement does not cover), copied into a sealed memory file before they are measured and
 * run, so that nobody can change the bytes between the two.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "ebcc-base.h"
#include "image.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: executable memfd even under vm.memfd_noexec=1 */
#endif

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#elif defined(__i386__)
#define NATIVE_MACHINE EM_386
#elif defined(__arm__)
#define NATIVE_MACHINE EM_ARM
#elif defined(__riscv)
#define NATIVE_MACHINE EM_RISCV
#elif defined(__powerpc64__)
#define NATIVE_MACHINE EM_PPC64
#elif defined(__s390x__)
#define NATIVE_MACHINE EM_S390
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_DATA ELFDATA2LSB
#else
#define NATIVE_DATA ELFDATA2MSB
#endif
#define NATIVE_CLASS (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)

static int pread_exact(int fd, void *buf, size_t len, off_t offset, const char *display)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, offset + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ebcc__error_errno(EBCC_ERR_IO, errno, "read stage image %s", display);
		if (n == 0)
			return ebcc__error(EBCC_ERR_INVALID_ARG,
					   "stage image %s is truncated: %zu bytes missing at offset "
					   "%jd",
					   display, len - got, (intmax_t)offset + (intmax_t)got);
		got += (size_t)n;
	}
	return 0;
}

int ebcc__image_check_static(int fd, const char *display)
{
	_cleanup_free_ ElfW(Phdr) *ph = NULL;
	ElfW(Ehdr) eh;
	struct stat st;
	bool loadable = false;
	size_t ph_size;
	int r;

	if (fstat(fd, &st) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "stat stage image %s", display);
	if (!S_ISREG(st.st_mode))
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage image %s is not a regular file",
				   display);
	if ((uint64_t)st.st_size > EBCC_IMAGE_MAX)
		return ebcc__error(EBCC_ERR_TOO_BIG, "stage image %s is %jd bytes, more than %ju",
				   display, (intmax_t)st.st_size, (uintmax_t)EBCC_IMAGE_MAX);
	if ((size_t)st.st_size < sizeof(eh) || pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "stage image %s is not an ELF executable (a stage image is a "
				   "statically linked program)",
				   display);
	if (eh.e_ident[EI_CLASS] != NATIVE_CLASS || eh.e_ident[EI_DATA] != NATIVE_DATA)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "stage image %s is an ELF file of another word size or byte order "
				   "than this host",
				   display);
#ifdef NATIVE_MACHINE
	if (eh.e_machine != NATIVE_MACHINE)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "stage image %s is built for ELF machine %u, not this host's %u",
				   display, eh.e_machine, NATIVE_MACHINE);
#endif
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "stage image %s is an ELF file of type %u, not an executable",
				   display, eh.e_type);
	if (eh.e_entry == 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "stage image %s has no entry point (a shared library, not a "
				   "program)",
				   display);
	if (eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "stage image %s has a malformed program header table", display);
	ph_size = (size_t)eh.e_phnum * sizeof(ElfW(Phdr));
	if (eh.e_phoff > (uint64_t)st.st_size || ph_size > (uint64_t)st.st_size - eh.e_phoff)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "stage image %s: program headers lie beyond the end of the file",
				   display);
	ph = malloc(ph_size);
	if (ph == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory reading stage image %s",
				   display);
	r = pread_exact(fd, ph, ph_size, (off_t)eh.e_phoff, display);
	if (r < 0)
		return r;
	for (size_t i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP)
			return ebcc__error(EBCC_ERR_INVALID_ARG,
					   "stage image %s is dynamically linked (it has a PT_INTERP "
					   "program header): the measurement must cover all code "
					   "that runs, and a dynamic loader would pull in unmeasured "
					   "host libraries; link it statically (-static)",
					   display);
		if (ph[i].p_type == PT_LOAD)
			loadable = true;
	}
	if (!loadable)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage image %s has no loadable segment",
				   display);
	return 0;
}

static int copy_into(int from, int to, const char *display)
{
	uint8_t buf[65536];
	uint64_t total = 0;

	for (;;) {
		ssize_t n = pread(from, buf, sizeof(buf), (off_t)total);
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ebcc__error_errno(EBCC_ERR_IO, errno, "read stage image %s", display);
		if (n == 0)
			return 0;
		total += (uint64_t)n;
		if (total > EBCC_IMAGE_MAX)
			return ebcc__error(EBCC_ERR_TOO_BIG,
					   "stage image %s grew beyond %ju bytes while it was read",
					   display, (uintmax_t)EBCC_IMAGE_MAX);
		r = ebcc__write_all(to, buf, (size_t)n);
		if (r < 0)
			return ebcc__error_errno(r == -ENOMEM || r == -ENOSPC ? EBCC_ERR_NO_MEMORY
									      : EBCC_ERR_IO,
						 -r, "copy stage image %s into memory", display);
	}
}

int ebcc__image_seal(int fd, const char *display, int *ret_fd, bool *ret_sealed)
{
	_cleanup_close_ int mem = -1;
	int r;

	mem = memfd_create("ebcc-stage", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mem < 0 && errno == EINVAL)
		mem = memfd_create("ebcc-stage", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mem < 0) {
		if (errno != ENOSYS && errno != EINVAL)
			return ebcc__error_errno(EBCC_ERR_NO_MEMORY, errno,
						 "memfd_create for stage image %s", display);
		/* No sealable memory files: run the caller's descriptor itself. */
		mem = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (mem < 0)
			return ebcc__error_errno(EBCC_ERR_IO, errno, "dup stage image %s", display);
		*ret_fd = mem;
		mem = -1;
		*ret_sealed = false;
		return 0;
	}
	r = copy_into(fd, mem, display);
	if (r < 0)
		return r;
	if (fcntl(mem, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "seal the copy of stage image %s",
					 display);
	*ret_fd = mem;
	mem = -1;
	*ret_sealed = true;
	return 0;
}
