/* SPDX-License-Identifier: MIT */
/* StrictModes: whether a file or directory may be trusted (its owner and mode). */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ebcc-base.h"

int ebcc__check_trusted(const struct stat *st, const char *display, bool secret)
{
	uid_t me = geteuid();
	bool owner_ok = st->st_uid == me || (!secret && st->st_uid == 0);
	mode_t forbidden = secret ? 077 : (S_IWGRP | S_IWOTH);

	if (owner_ok && (st->st_mode & forbidden) == 0)
		return 0;
	if (secret)
		return ebcc__error(EBCC_ERR_PERMISSION,
				   "%s is owned by uid %u with mode %04o: a key must belong to uid %u "
				   "and be accessible to nobody else",
				   display, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777),
				   (unsigned)me);
	return ebcc__error(EBCC_ERR_PERMISSION,
			   "%s is owned by uid %u with mode %04o: it must belong to uid %u or root "
			   "and not be writable by group or others",
			   display, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777),
			   (unsigned)me);
}

int ebcc__check_trusted_fd(int fd, const char *display)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "stat %s", display);
	return ebcc__check_trusted(&st, display, false);
}
