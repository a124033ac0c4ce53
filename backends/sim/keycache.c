/* SPDX-License-Identifier: MIT */
/*
 * Device keys already decoded in this process, keyed by the identity of the key file they came
 * from (device, inode, size, modification and change times). Decoding a PEM private key costs
 * OpenSSL 3 far more than signing with it, so every stage's monitor looks here first; a key
 * file that is replaced or rewritten has a new identity and is decoded afresh.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "keycache.h"

#define SLOTS 8

struct slot {
	struct ebcc__sim_key_identity id;
	struct ebcc__sim_key key; /* key.pkey NULL: a free slot */
	uint64_t used;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot slots[SLOTS];
static uint64_t clock_ticks;

void ebcc__sim_key_identity_of(const struct stat *st, struct ebcc__sim_key_identity *ret)
{
	*ret = (struct ebcc__sim_key_identity){
		.dev = st->st_dev,
		.ino = st->st_ino,
		.size = st->st_size,
		.mtime_sec = st->st_mtim.tv_sec,
		.mtime_nsec = st->st_mtim.tv_nsec,
		.ctime_sec = st->st_ctim.tv_sec,
		.ctime_nsec = st->st_ctim.tv_nsec,
	};
}

static bool same(const struct ebcc__sim_key_identity *a, const struct ebcc__sim_key_identity *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	       a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

bool ebcc__sim_keycache_get(const struct ebcc__sim_key_identity *id, struct ebcc__sim_key *ret)
{
	bool hit = false;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SLOTS && !hit; i++) {
		if (slots[i].key.pkey == NULL || !same(&slots[i].id, id))
			continue;
		hit = EVP_PKEY_up_ref(slots[i].key.pkey) == 1;
		if (hit) {
			*ret = slots[i].key;
			slots[i].used = ++clock_ticks;
		}
	}
	pthread_mutex_unlock(&lock);
	return hit;
}

void ebcc__sim_keycache_put(const struct ebcc__sim_key_identity *id, const struct ebcc__sim_key *key)
{
	struct slot *victim = &slots[0];

	if (EVP_PKEY_up_ref(key->pkey) != 1)
		return;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SLOTS; i++) {
		if (slots[i].key.pkey == NULL || same(&slots[i].id, id)) {
			victim = &slots[i];
			break;
		}
		if (slots[i].used < victim->used)
			victim = &slots[i];
	}
	ebcc__sim_key_clear(&victim->key);
	victim->id = *id;
	victim->key = *key;
	victim->used = ++clock_ticks;
	pthread_mutex_unlock(&lock);
}

/* Keys are secrets: give them back to OpenSSL (which cleanses them) and wipe the signing
 * secrets when the library goes. */
__attribute__((destructor)) static void keycache_clear(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SLOTS; i++)
		ebcc__sim_key_clear(&slots[i].key);
	pthread_mutex_unlock(&lock);
}
