/* SPDX-License-Identifier: MIT */
/*
 * Device keys already decoded in this process, keyed by the identity of the key file they came
 * from (device, inode, size, modification and change times). Decoding a PEM private key costs
 * OpenSSL 3 far more than signing with it, so each report looks here first; a key file that is
 * replaced or rewritten has a new identity and is decoded afresh.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "keycache.h"

#define SLOTS 8

struct slot {
	struct ebcc__sim_key_identity id;
	EVP_PKEY *key;
	EVP_MD_CTX *sign_template; /* DigestSignInit done once; copied for each signature */
	uint8_t kid[EBCC_SHA256_SIZE];
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

bool ebcc__sim_keycache_get(const struct ebcc__sim_key_identity *id, EVP_PKEY **ret_key,
			    uint8_t kid[EBCC_SHA256_SIZE])
{
	bool hit = false;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SLOTS && !hit; i++) {
		if (slots[i].key == NULL || !same(&slots[i].id, id))
			continue;
		hit = EVP_PKEY_up_ref(slots[i].key) == 1;
		if (hit) {
			*ret_key = slots[i].key;
			memcpy(kid, slots[i].kid, EBCC_SHA256_SIZE);
			slots[i].used = ++clock_ticks;
		}
	}
	pthread_mutex_unlock(&lock);
	return hit;
}

void ebcc__sim_keycache_put(const struct ebcc__sim_key_identity *id, EVP_PKEY *key,
			    const uint8_t kid[EBCC_SHA256_SIZE])
{
	struct slot *victim = &slots[0];

	if (EVP_PKEY_up_ref(key) != 1)
		return;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SLOTS; i++) {
		if (slots[i].key == NULL || same(&slots[i].id, id)) {
			victim = &slots[i];
			break;
		}
		if (slots[i].used < victim->used)
			victim = &slots[i];
	}
	EVP_PKEY_free(victim->key);
	EVP_MD_CTX_free(victim->sign_template);
	victim->sign_template = NULL;
	victim->id = *id;
	victim->key = key;
	memcpy(victim->kid, kid, EBCC_SHA256_SIZE);
	victim->used = ++clock_ticks;
	pthread_mutex_unlock(&lock);
}

EVP_MD_CTX *ebcc__sim_keycache_sign_ctx(EVP_PKEY *key)
{
	EVP_MD_CTX *ctx = NULL;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SLOTS && ctx == NULL; i++) {
		struct slot *slot = &slots[i];

		if (slot->key != key)
			continue;
		/* Setting up a signature costs OpenSSL 3 a provider lookup; a copy of a context
		 * set up once does not. */
		if (slot->sign_template == NULL) {
			slot->sign_template = EVP_MD_CTX_new();
			if (slot->sign_template != NULL &&
			    EVP_DigestSignInit(slot->sign_template, NULL, ebcc__md_sha256(), NULL,
					       key) != 1) {
				EVP_MD_CTX_free(slot->sign_template);
				slot->sign_template = NULL;
			}
		}
		if (slot->sign_template != NULL) {
			ctx = EVP_MD_CTX_new();
			if (ctx != NULL && EVP_MD_CTX_copy_ex(ctx, slot->sign_template) != 1) {
				EVP_MD_CTX_free(ctx);
				ctx = NULL;
			}
		}
		break;
	}
	pthread_mutex_unlock(&lock);
	return ctx;
}

/* Keys are secrets: give them back to OpenSSL (which cleanses them) when the library goes. */
__attribute__((destructor)) static void keycache_clear(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SLOTS; i++) {
		EVP_PKEY_free(slots[i].key);
		EVP_MD_CTX_free(slots[i].sign_template);
		slots[i].key = NULL;
		slots[i].sign_template = NULL;
	}
	pthread_mutex_unlock(&lock);
}
