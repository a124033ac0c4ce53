/* SPDX-License-Identifier: MIT */
/*
 * Invocation artifacts: stages/<name>/<seq>/ with request.bin, response.bin, meta.json,
 * log.txt and evidence.json. The directory is built under a hidden temporary name and renamed
 * into place, so a reader sees a complete invocation or none. Retention keeps the newest N.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "ebcc-private.h"

#define TMP_PREFIX ".tmp-"
#define PRUNE_PREFIX ".pruned-"
#define EVIDENCE_NAME "evidence.json"

static int write_new_file(int dir_fd, const char *name, const void *data, size_t len,
			  bool durable)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r;

	if (fd < 0)
		return -errno;
	r = ebcc__write_all(fd, data, len);
	if (r == 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0 && errno != EINTR)
		r = -errno;
	return r;
}

/* "<key>": {"size": N, "digest": "sha256:...", "stored": B} */
static void body_json(char *out, size_t size, const char *key, size_t len,
		      const uint8_t digest[EBCC_SHA256_SIZE], bool stored)
{
	char text[EBCC_SHA256_MEASUREMENT_MAX];

	ebcc__measurement_format(digest, text);
	snprintf(out, size,
		 "  \"%s\": {\n    \"size\": %zu,\n    \"digest\": \"%s\",\n    \"stored\": %s\n  },\n",
		 key, len, text, stored ? "true" : "false");
}

/*
 * meta.json, written directly rather than through a JSON tree: it is on every invocation's
 * path. Only the error message can hold characters JSON must escape; every other string
 * (id, stage, backend, measurement, time) is of a character set that needs none.
 */
static int meta_json(const struct ebcc_artifact *a, bool store_bodies, uint64_t persist_ns,
		     char **ret)
{
	char nonce[2 * EBCC_NONCE_MAX + 1], eid[24], request[192], response[192] = "";
	_cleanup_free_ char *error = NULL, *message = NULL;
	int n;

	ebcc__hex_encode(a->nonce, a->nonce_len, nonce);
	if (a->has_eid)
		snprintf(eid, sizeof(eid), "%" PRIu64, a->eid);
	else
		snprintf(eid, sizeof(eid), "null");
	body_json(request, sizeof(request), "request", a->request_len, a->request_digest,
		  store_bodies && !a->request_refused);
	if (a->has_response)
		body_json(response, sizeof(response), "response", a->response_len,
			  a->response_digest, store_bodies);
	if (a->error_code != 0) {
		if (ebcc__json_quote(a->error_message != NULL ? a->error_message : "", &message) < 0 ||
		    asprintf(&error, "  \"error\": {\n    \"code\": \"%s\",\n    \"message\": %s\n  },\n",
			     ebcc_error_name(a->error_code), message) < 0)
			return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	n = asprintf(ret,
		     "{\n  \"seq\": %" PRIu64 ",\n  \"instance\": \"%s\",\n  \"stage\": \"%s\",\n"
		     "  \"backend\": \"%s\",\n  \"lifetime\": \"%s\",\n  \"eid\": %s,\n"
		     "  \"measurement\": \"%s\",\n  \"started\": \"%s\",\n  \"status\": \"%s\",\n"
		     "%s%s%s%s  \"nonce\": \"%s\",\n%s%s  \"log_size\": %zu,\n"
		     "  \"timings_ns\": {\n    \"validate\": %" PRIu64 ",\n    \"eid\": %" PRIu64 ",\n"
		     "    \"dispatch\": %" PRIu64 ",\n    \"report\": %" PRIu64 ",\n"
		     "    \"teardown\": %" PRIu64 ",\n    \"persist\": %" PRIu64 "\n  }\n}\n",
		     a->seq, a->instance, a->stage, a->backend, ebcc__lifetime_name(a->lifetime), eid,
		     a->measurement, a->started, a->error_code == 0 ? "ok" : "error",
		     error != NULL ? error : "", a->trace_id != NULL ? "  \"trace_id\": \"" : "",
		     a->trace_id != NULL ? a->trace_id : "", a->trace_id != NULL ? "\",\n" : "",
		     nonce, request, response, a->log_len, a->ns_validate,
		     a->ns_eid, a->ns_dispatch, a->ns_report, a->ns_teardown, persist_ns);
	return n < 0 ? ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory") : 0;
}

/* Writes every file of the invocation into the (new, empty) directory dir_fd. */
static int write_files(int dir_fd, const struct ebcc_artifact *a, bool store_bodies,
		       bool durable, uint64_t started_ns)
{
	_cleanup_free_ char *meta = NULL;
	const char *name = "request.bin"; /* the one being written, for the message */
	int r = 0;

	if (store_bodies) {
		if (!a->request_refused)
			r = write_new_file(dir_fd, name, a->request, a->request_len, durable);
		if (r == 0 && a->has_response)
			r = write_new_file(dir_fd, name = "response.bin", a->response,
					   a->response_len, durable);
	}
	if (r == 0)
		r = write_new_file(dir_fd, name = "log.txt", a->log, a->log_len, durable);
	if (r == 0 && a->evidence_json != NULL)
		r = write_new_file(dir_fd, name = EVIDENCE_NAME, a->evidence_json,
				   a->evidence_len, durable);
	if (r < 0)
		return ebcc__error_errno(ebcc__error_from_errno(-r), -r,
					 "stage %s: write %s of invocation %" PRIu64, a->stage, name,
					 a->seq);
	/* meta.json last, so it can say how long persisting the others took. */
	r = meta_json(a, store_bodies, ebcc__now_ns() - started_ns, &meta);
	if (r < 0)
		return r;
	r = write_new_file(dir_fd, "meta.json", meta, strlen(meta), durable);
	if (r == 0 && durable && fsync(dir_fd) < 0)
		r = -errno;
	return r < 0 ? ebcc__error_errno(ebcc__error_from_errno(-r), -r,
					 "stage %s: write meta.json of invocation %" PRIu64,
					 a->stage, a->seq)
		     : 0;
}

/* Parses a published invocation directory's name; 0 for anything else. */
static uint64_t seq_of(const char *name)
{
	uint64_t seq;

	if (name[0] == '0' || ebcc__parse_u64(name, 1, INT64_MAX - 1, &seq) < 0)
		return 0;
	return seq;
}

static int compare_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Lists the published invocations of a stage directory, newest first (malloc). */
int ebcc__artifacts_list(int stage_dir_fd, uint64_t **ret, size_t *ret_n)
{
	int fd = fcntl(stage_dir_fd, F_DUPFD_CLOEXEC, 3);
	uint64_t *seqs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir;

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return ebcc__error_errno(EBCC_ERR_IO, errno, "read a stage directory");
	}
	rewinddir(dir);
	while ((de = readdir(dir)) != NULL) {
		uint64_t seq = seq_of(de->d_name);

		if (seq == 0)
			continue;
		if (n == cap) {
			uint64_t *grown = realloc(seqs, (cap = cap ? 2 * cap : 64) * sizeof(*seqs));

			if (grown == NULL) {
				free(seqs);
				closedir(dir);
				return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
			}
			seqs = grown;
		}
		seqs[n++] = seq;
	}
	closedir(dir);
	if (n > 0)
		qsort(seqs, n, sizeof(*seqs), compare_u64_desc);
	*ret = seqs;
	*ret_n = n;
	return 0;
}

/* Keeps the newest `keep` invocations. Each one goes out of sight at once (renamed to a hidden
 * name) before its files are removed, so a crash never leaves a published one half gone. */
static void prune(int stage_dir_fd, uint32_t keep)
{
	uint64_t *seqs = NULL;
	size_t n = 0;

	if (ebcc__artifacts_list(stage_dir_fd, &seqs, &n) < 0)
		return;
	for (size_t i = keep; i < n; i++) {
		char name[24], gone[64], suffix[17];

		snprintf(name, sizeof(name), "%" PRIu64, seqs[i]);
		if (ebcc__random_hex(suffix, 8) < 0)
			break;
		snprintf(gone, sizeof(gone), PRUNE_PREFIX "%s-%s", name, suffix);
		if (renameat(stage_dir_fd, name, stage_dir_fd, gone) < 0)
			continue; /* pruned by another process meanwhile */
		ebcc__test_point("invoke:pruned");
		ebcc__remove_tree_at(stage_dir_fd, gone);
	}
	free(seqs);
}

int ebcc__artifacts_persist(int stage_dir_fd, const struct ebcc_artifact *a,
			    const struct ebcc_artifact_policy *policy)
{
	char tmp[64], name[24];
	uint64_t started_ns = ebcc__now_ns();
	_cleanup_close_ int dir_fd = -1;
	int r;

	/* A sequence number is allocated once, ever: its temporary name cannot clash. */
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%" PRIu64, a->seq);
	snprintf(name, sizeof(name), "%" PRIu64, a->seq);
	if (mkdirat(stage_dir_fd, tmp, 0700) < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno,
					 "stage %s: create invocation directory", a->stage);
	ebcc__test_point("invoke:tmpdir-made");
	r = ebcc__open_dir_at(stage_dir_fd, tmp, tmp, &dir_fd);
	if (r == 0)
		r = write_files(dir_fd, a, policy->store_bodies, policy->durable, started_ns);
	ebcc__test_point("invoke:artifacts-written");
	/* The invocation appears all at once; a seq is never published twice. */
	if (r == 0 && syscall(SYS_renameat2, stage_dir_fd, tmp, stage_dir_fd, name,
			      RENAME_NOREPLACE) < 0)
		r = ebcc__error_errno(ebcc__error_from_errno(errno), errno,
				      "stage %s: publish invocation %" PRIu64, a->stage, a->seq);
	if (r < 0) {
		ebcc__remove_tree_at(stage_dir_fd, tmp);
		return r;
	}
	ebcc__test_point("invoke:published");
	if (policy->durable && fsync(stage_dir_fd) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "stage %s: fsync", a->stage);
	if (policy->retention > 0)
		prune(stage_dir_fd, policy->retention);
	return 0;
}

int ebcc__artifacts_read_evidence(int stage_dir_fd, const char *stage, uint64_t seq,
				  struct ebcc_evidence **ret)
{
	_cleanup_close_ int dir_fd = -1;
	_cleanup_free_ char *text = NULL;
	char name[24], display[EBCC_STAGE_NAME_MAX + 64];
	size_t len;
	int r;

	snprintf(name, sizeof(name), "%" PRIu64, seq);
	snprintf(display, sizeof(display), "stages/%s/%s/" EVIDENCE_NAME, stage, name);
	r = ebcc__open_dir_at(stage_dir_fd, name, display, &dir_fd);
	if (r == EBCC_ERR_NOT_FOUND)
		return ebcc__error(EBCC_ERR_NOT_FOUND, "stage %s has no invocation %" PRIu64
				   " (never made, or removed by retention)",
				   stage, seq);
	if (r == 0)
		r = ebcc__file_read_at(dir_fd, EVIDENCE_NAME, display, EBCC_EVIDENCE_TEXT_MAX, &text,
				       &len);
	if (r == EBCC_ERR_NOT_FOUND)
		return ebcc__error(EBCC_ERR_NOT_FOUND,
				   "stage %s: invocation %" PRIu64 " failed and has no evidence",
				   stage, seq);
	if (r < 0)
		return r;
	r = ebcc__evidence_parse(text, len, EBCC_ERR_CORRUPT, ret);
	return r < 0 ? ebcc__error_prefix(r, "%s", display) : 0;
}
