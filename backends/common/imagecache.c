/* SPDX-License-Identifier: MIT */
/*
 * Sealed stage images measured once per process. A per-invocation stage is loaded for every
 * request; copying its image into a sealed memory file and hashing it each time would cost
 * more than running it. A sealed copy cannot change, so the copy made and measured for one
 * version of an image file (same device, inode, size, modification and change times) serves
 * every later load of that version: what runs is still byte for byte what was measured.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "ebcc-base.h"
#include "image.h"

#define SLOTS 8

struct slot {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	int sealed_fd; /* 0: empty (copies are made at descriptor 3 and up) */
	uint8_t digest[EBCC_SHA256_SIZE];
	uint64_t used;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[SLOTS];
static uint64_t ticks;

static bool same(const struct slot *s, const struct stat *st)
{
	return s->sealed_fd > 0 && s->dev == st->st_dev && s->ino == st->st_ino &&
	       s->size == st->st_size && s->mtime.tv_sec == st->st_mtim.tv_sec &&
	       s->mtime.tv_nsec == st->st_mtim.tv_nsec && s->ctime.tv_sec == st->st_ctim.tv_sec &&
	       s->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static bool lookup(const struct stat *st, int *ret_fd, uint8_t digest[EBCC_SHA256_SIZE])
{
	bool hit = false;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SLOTS && !hit; i++) {
		if (!same(&slots[i], st))
			continue;
		if (ret_fd != NULL)
			*ret_fd = fcntl(slots[i].sealed_fd, F_DUPFD_CLOEXEC, 3);
		hit = ret_fd == NULL || *ret_fd >= 0;
		if (hit) {
			memcpy(digest, slots[i].digest, EBCC_SHA256_SIZE);
			slots[i].used = ++ticks;
		}
	}
	pthread_mutex_unlock(&lock);
	return hit;
}

static void remember(const struct stat *st, int sealed_fd, const uint8_t digest[EBCC_SHA256_SIZE])
{
	struct slot *victim = &slots[0];
	int copy = fcntl(sealed_fd, F_DUPFD_CLOEXEC, 3);

	if (copy < 0)
		return;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SLOTS; i++) {
		if (slots[i].sealed_fd == 0) {
			victim = &slots[i];
			break;
		}
		if (slots[i].used < victim->used)
			victim = &slots[i];
	}
	if (victim->sealed_fd > 0)
		close(victim->sealed_fd);
	*victim = (struct slot){
		.dev = st->st_dev,
		.ino = st->st_ino,
		.size = st->st_size,
		.mtime = st->st_mtim,
		.ctime = st->st_ctim,
		.sealed_fd = copy,
		.used = ++ticks,
	};
	memcpy(victim->digest, digest, EBCC_SHA256_SIZE);
	pthread_mutex_unlock(&lock);
}

int ebcc__image_seal_measured(int fd, const char *display, int *ret_fd,
			      uint8_t digest[EBCC_SHA256_SIZE])
{
	_cleanup_close_ int sealed_fd = -1;
	struct stat before, after;
	bool sealed = false;
	int r;

	if (fstat(fd, &before) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "stat stage image %s", display);
	if (lookup(&before, ret_fd, digest))
		return 0;
	r = ebcc__image_seal(fd, display, &sealed_fd, &sealed);
	if (r == 0)
		r = ebcc__sha256_fd(sealed_fd, display, digest);
	if (r < 0)
		return r;
	/* Kept only if sealed, and only if the file did not change while it was copied. */
	if (sealed && fstat(fd, &after) == 0 && after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
	    after.st_mtim.tv_nsec == before.st_mtim.tv_nsec &&
	    after.st_ctim.tv_sec == before.st_ctim.tv_sec &&
	    after.st_ctim.tv_nsec == before.st_ctim.tv_nsec && after.st_size == before.st_size)
		remember(&before, sealed_fd, digest);
	*ret_fd = sealed_fd;
	sealed_fd = -1;
	return 0;
}

int ebcc__image_measure(int fd, const char *display, uint8_t digest[EBCC_SHA256_SIZE])
{
	struct stat st;

	if (fstat(fd, &st) == 0 && lookup(&st, NULL, digest))
		return 0;
	return ebcc__sha256_fd(fd, display, digest);
}

__attribute__((destructor)) static void imagecache_clear(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SLOTS; i++) {
		if (slots[i].sealed_fd > 0)
			close(slots[i].sealed_fd);
		slots[i].sealed_fd = 0;
	}
	pthread_mutex_unlock(&lock);
}
