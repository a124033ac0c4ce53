/* SPDX-License-Identifier: MIT */
/*
 * A function of the vDSO by name: the kernel maps its ELF image into every process
 * (getauxval(AT_SYSINFO_EHDR)), section headers included, so its dynamic symbol table can be
 * read in place. The SGX selftest finds __vdso_sgx_enter_enclave the same way.
 */
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>

#include "hostops.h"

void *ebcc__vdso_symbol(const char *name)
{
	unsigned long at = getauxval(AT_SYSINFO_EHDR);
	const uint8_t *base;
	const ElfW(Ehdr) *eh;
	const ElfW(Shdr) *sh;
	ElfW(Addr) vaddr = 0;

	/* The auxiliary vector gives the address as a number. */
	memcpy(&base, &at, sizeof(base));
	eh = (const ElfW(Ehdr) *)base;
	if (base == NULL || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_shoff == 0)
		return NULL;
	/* Symbol values are relative to the first PT_LOAD's virtual address. */
	for (int i = 0; i < eh->e_phnum; i++) {
		const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(base + eh->e_phoff) + i;

		if (ph->p_type == PT_LOAD) {
			vaddr = ph->p_vaddr;
			break;
		}
	}
	sh = (const ElfW(Shdr) *)(base + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		const ElfW(Sym) *sym;
		const char *strtab;
		size_t n;

		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_entsize != sizeof(ElfW(Sym)) ||
		    sh[i].sh_link >= eh->e_shnum)
			continue;
		sym = (const ElfW(Sym) *)(base + sh[i].sh_offset);
		strtab = (const char *)(base + sh[sh[i].sh_link].sh_offset);
		n = sh[i].sh_size / sizeof(ElfW(Sym));
		for (size_t j = 0; j < n; j++)
			if (sym[j].st_shndx != SHN_UNDEF && ELF64_ST_TYPE(sym[j].st_info) == STT_FUNC &&
			    strcmp(strtab + sym[j].st_name, name) == 0)
				return (void *)(base + (sym[j].st_value - vaddr));
	}
	return NULL;
}
