/* SPDX-License-Identifier: MIT */
/*
 * Each composite's own socket directory and the record of its broker, in ebcc-runtime's run
 * directory (--run-dir; /run/ebcc-runtime as root):
 *
 *   <run-dir>/sockets/<key>/ebcc.sock   bind-mounted read-only at /run/ebcc in the container
 *   <run-dir>/brokers/id-<key>.json     the broker serving it (hook/record.c's format)
 *   <run-dir>/roots/<hash>/             the libebcc state root for low-level --root <root>
 *
 * key is the first 128 bits (hex) of SHA-256(low-level root, NUL, id): containerd runs the
 * same id in two namespaces with two --root directories, and their composites, sockets and
 * brokers must stay apart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../hook/hook.h"
#include "runtime.h"

#define BROKER_STOP_GRACE_MS 10000

/* The first 128 bits of SHA-256(a, NUL, b) in hex. */
static int digest_hex(const char *a, const char *b, char out[RT_KEY_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(c, a, strlen(a) + 1) == 1 &&
		 (b == NULL || EVP_DigestUpdate(c, b, strlen(b)) == 1) &&
		 EVP_DigestFinal_ex(c, md, &md_len) == 1;

	EVP_MD_CTX_free(c);
	if (!ok || md_len < RT_KEY_LEN / 2)
		return -1;
	rt_hex(md, RT_KEY_LEN / 2, out);
	return 0;
}

const char *rt_run_dir(const struct rt *rt)
{
	static char fallback[4096];
	const char *xdg;

	if (rt->g.run_dir != NULL)
		return rt->g.run_dir;
	if (geteuid() == 0)
		return RT_RUN_DIR_DEFAULT;
	xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg == NULL || xdg[0] != '/' ||
	    (size_t)snprintf(fallback, sizeof(fallback), "%s/" RT_NAME, xdg) >= sizeof(fallback))
		return NULL;
	return fallback;
}

static const char *run_dir_or_fail(const struct rt *rt, const char *verb, const char *id)
{
	const char *dir = rt_run_dir(rt);

	if (dir == NULL)
		rt_fail_plain("%s %s: no run directory: give --run-dir (as a user without "
			      "$XDG_RUNTIME_DIR)",
			      verb, id);
	return dir;
}

int rt_derive_state_root(struct rt *rt)
{
	char hash[RT_KEY_LEN + 1];
	const char *run_dir;

	if (rt->g.state_root != NULL || rt->g.anchor == RT_ANCHOR_PROCESS || rt->g.root == NULL)
		return 0;
	run_dir = rt_run_dir(rt);
	if (run_dir == NULL)
		return rt_fail_plain("--root %s: no run directory for its composites' state: give "
				     "--run-dir or --state-root",
				     rt->g.root),
		       -1;
	if (digest_hex(rt->g.root, NULL, hash) < 0)
		return rt_fail_plain("--root %s: SHA-256 failed", rt->g.root), -1;
	if (asprintf(&rt->g.derived_state_root, "%s/roots/%s", run_dir, hash) < 0) {
		rt->g.derived_state_root = NULL;
		return rt_fail_plain("out of memory"), -1;
	}
	return 0;
}

/* The key of container id under the low-level root. */
static int sockets_key(const struct rt *rt, const char *id, char key[RT_KEY_LEN + 1])
{
	if (digest_hex(rt->g.root != NULL ? rt->g.root : "", id, key) < 0)
		return rt_fail_plain("%s: SHA-256 failed", id), -1;
	return 0;
}

static int paths(const struct rt *rt, const char *verb, const char *id, char *sockets,
		 char *brokers, size_t size, char key[RT_KEY_LEN + 1])
{
	const char *run_dir = run_dir_or_fail(rt, verb, id);

	if (run_dir == NULL || sockets_key(rt, id, key) < 0)
		return -1;
	if ((size_t)snprintf(sockets, size, "%s/sockets", run_dir) >= size ||
	    (size_t)snprintf(brokers, size, "%s/brokers", run_dir) >= size)
		return rt_fail_plain("--run-dir %s: too long", run_dir), -1;
	return 0;
}

int rt_sockets_make(struct rt *rt, const char *id, char **ret_dir)
{
	char sockets[4096], brokers[4096], key[RT_KEY_LEN + 1];

	if (paths(rt, "create", id, sockets, brokers, sizeof(sockets), key) < 0)
		return -1;
	if (hook_sockdir_make(sockets, key, ret_dir) < 0)
		return rt_fail_plain("create %s: %s", id, hook_error_message()), -1;
	if (hook_record_claim(brokers, key) < 0) {
		rt_fail_plain("create %s: %s", id, hook_error_message());
		hook_sockdir_remove(*ret_dir);
		free(*ret_dir);
		*ret_dir = NULL;
		return -1;
	}
	return 0;
}

int rt_sockets_record(struct rt *rt, const char *id, const char *dir, pid_t broker,
		      uint64_t broker_start)
{
	char sockets[4096], brokers[4096], key[RT_KEY_LEN + 1];
	struct hook_record rec = {
		.broker_pid = broker,
		.broker_start = broker_start,
		.socket_dir = (char *)dir,
	};

	if (paths(rt, "create", id, sockets, brokers, sizeof(sockets), key) < 0)
		return -1;
	if (hook_record_write(brokers, key, &rec) < 0)
		return rt_fail_plain("create %s: %s", id, hook_error_message()), -1;
	return 0;
}

int rt_sockets_remove(struct rt *rt, const char *verb, const char *id)
{
	char sockets[4096], brokers[4096], key[RT_KEY_LEN + 1], dir[8192];
	struct hook_record rec = { 0 };
	int r;

	if (paths(rt, verb, id, sockets, brokers, sizeof(sockets), key) < 0)
		return -1;
	r = hook_record_read(brokers, key, &rec);
	if (r < 0)
		return rt_fail_plain("%s %s: %s", verb, id, hook_error_message()), -1;
	/* The broker leaves with the container's process; one that lingers is stopped. */
	if (r == 0 && rec.broker_pid > 0 &&
	    hook_proc_stop(rec.broker_pid, rec.broker_start, BROKER_STOP_GRACE_MS) < 0) {
		hook_record_clear(&rec);
		return rt_fail_plain("%s %s: its broker (pid %d) does not stop", verb, id,
				     (int)rec.broker_pid),
		       -1;
	}
	hook_record_clear(&rec);
	snprintf(dir, sizeof(dir), "%s/%s", sockets, key);
	if (hook_sockdir_remove(dir) < 0)
		return rt_fail_plain("%s %s: %s", verb, id, hook_error_message()), -1;
	hook_record_remove(brokers, key);
	return 0;
}
