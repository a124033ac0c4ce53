/* SPDX-License-Identifier: MIT */
/*
 * Stage images that are archives of a fixed set of files: strict POSIX ustar (what
 * `tar --format=ustar -cf IMAGE a b c` writes; GNU tar's default format writes the same headers
 * for short names). Each named member once, in any order, none empty, regular files only, then
 * nothing but zero bytes. Anything else (another member, a directory, a link, a pax or GNU
 * long-name header, a ustar prefix, a bad checksum, a size past the end) is refused, naming the
 * member, the field and the byte offset of its header.
 */
#ifndef EBCC_BACKEND_USTAR_H
#define EBCC_BACKEND_USTAR_H

#include <stddef.h>
#include <stdint.h>

#define EBCC_USTAR_MEMBERS_MAX 8

/* What an archive of one kind holds. */
struct ebcc__ustar_members {
	const char *what;         /* the kind, for messages: "a keystone stage image" */
	const char *const *names; /* the members' names, at most 100 bytes each */
	size_t n;                 /* 1..EBCC_USTAR_MEMBERS_MAX */
};

/*
 * Splits the len bytes at buf into the members named: ret_files[i] (pointing into buf) and
 * ret_lens[i] are those of m->names[i]. display names the archive in messages. Errors:
 * EBCC_ERR_INVALID_ARG with the reason (ret_files and ret_lens are then partly written).
 */
int ebcc__ustar_split(const uint8_t *buf, size_t len, const char *display,
		      const struct ebcc__ustar_members *m, const uint8_t **ret_files,
		      size_t *ret_lens);

#endif
