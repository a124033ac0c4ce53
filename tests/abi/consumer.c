/* SPDX-License-Identifier: MIT */
/*
 * An outside program built only from the installed tree with pkg-config. Given the path of an
 * installed stage image (the example echo stage), it runs the whole lifecycle in a temporary
 * state root: create, start, invoke, verify the evidence offline, kill, wait, delete.
 *
 * usage: consumer [STAGE_IMAGE]
 */
#define _GNU_SOURCE /* nftw, mkdtemp: this file is compiled outside the project's flags */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ebcc/backend.h>
#include <ebcc/ebcc.h>

#define ID "consumer"

static int failed(const char *what, int r)
{
	fprintf(stderr, "consumer: %s: %s: %s\n", what, ebcc_error_name(r),
		ebcc_last_error_message());
	return 1;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len, int mode)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0) {
		fprintf(stderr, "consumer: writing %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int copy_image(const char *src, const char *bundle)
{
	char *data = NULL;
	size_t len = 0, size = 0;
	ssize_t n;
	int fd = open(src, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0) {
		fprintf(stderr, "consumer: %s: %s\n", src, strerror(errno));
		return -1;
	}
	do {
		if (len == size) {
			char *grown = realloc(data, size = size ? 2 * size : 1 << 20);

			if (grown == NULL) {
				free(data);
				close(fd);
				return -1;
			}
			data = grown;
		}
		n = read(fd, data + len, size - len);
		if (n > 0)
			len += (size_t)n;
	} while (n > 0);
	close(fd);
	r = n < 0 ? -1 : write_file(bundle, "stages/echo", data, len, 0755);
	free(data);
	return r;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* The value of "key": "<value>" in flat JSON text, copied into out. */
static int json_string_field(const char *json, const char *key, char *out, size_t size)
{
	char pattern[64];
	const char *start, *end;

	snprintf(pattern, sizeof(pattern), "\"%s\": \"", key);
	start = strstr(json, pattern);
	if (start == NULL) {
		snprintf(pattern, sizeof(pattern), "\"%s\":\"", key);
		start = strstr(json, pattern);
	}
	if (start == NULL)
		return -1;
	start += strlen(pattern);
	end = strchr(start, '"');
	if (end == NULL || (size_t)(end - start) >= size)
		return -1;
	memcpy(out, start, (size_t)(end - start));
	out[end - start] = '\0';
	return 0;
}

/* A policy trusting pem (newlines escaped for JSON), expecting measurement and nonce. */
static char *policy(const char *pem, const char *measurement, const char *nonce)
{
	size_t len = strlen(pem) * 2 + strlen(measurement) + strlen(nonce) + 256;
	char *out = malloc(len), *p;

	if (out == NULL)
		return NULL;
	p = out + sprintf(out, "{\"trusted_keys\": [\"");
	for (const char *c = pem; *c != '\0'; c++) {
		if (*c == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else {
			*p++ = *c;
		}
	}
	sprintf(p, "\"], \"measurement\": \"%s\", \"nonce\": \"%s\", \"allow_simulated\": true}",
		measurement, nonce);
	return out;
}

static int lifecycle(const char *image, const char *base)
{
	static const uint8_t nonce[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	static const char config[] =
		"{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
		" \"process\": {\"args\": [\"sleep\", \"60\"], \"cwd\": \"/\","
		" \"env\": [\"PATH=/usr/bin:/bin\"]}}";
	static const char manifest[] =
		"{\"ebccVersion\": \"0.1\", \"stages\": [{\"name\": \"echo\", \"image\": \"stages/echo\"}]}";
	char root[4096], bundle[4096], stages[4200], measurement[128];
	char *info = NULL, *pem = NULL, *good = NULL, *replay = NULL;
	struct ebcc_context *ctx = NULL;
	struct ebcc_instance *inst = NULL;
	struct ebcc_invocation *inv = NULL;
	struct ebcc_evidence *ev = NULL;
	const void *response;
	size_t response_len;
	int r, status = 0, code = 1;

	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(bundle, sizeof(bundle), "%s/bundle", base);
	snprintf(stages, sizeof(stages), "%s/stages", bundle);
	if (mkdir(bundle, 0755) < 0 || mkdir(stages, 0755) < 0 || copy_image(image, bundle) < 0 ||
	    write_file(bundle, "config.json", config, strlen(config), 0644) < 0 ||
	    write_file(bundle, "ebcc.json", manifest, strlen(manifest), 0644) < 0)
		return 1;

	if ((r = ebcc_context_new(&ctx)) < 0 || (r = ebcc_context_set_option(ctx, "state_root", root)) < 0) {
		code = failed("context", r);
		goto out;
	}
	if ((r = ebcc_instance_create(ctx, ID, bundle, &inst)) < 0) {
		code = failed("create", r);
		goto out;
	}
	if ((r = ebcc_instance_start(inst)) < 0) {
		code = failed("start", r);
		goto out;
	}
	r = ebcc_stage_invoke(inst, "echo", "upper:installed", 15, nonce, sizeof(nonce), &inv);
	if (r < 0 || (r = ebcc_invocation_response(inv, &response, &response_len)) < 0) {
		code = failed("invoke", r);
		goto out;
	}
	if (response_len != 9 || memcmp(response, "INSTALLED", 9) != 0) {
		fprintf(stderr, "consumer: unexpected response %.*s\n", (int)response_len,
			(const char *)response);
		goto out;
	}
	/* The verifier's side: the key, the measurement and its own nonce. */
	if ((r = ebcc_stage_info(inst, "echo", &info)) < 0 ||
	    (r = ebcc_backend_attestation_key(ctx, "sim", &pem)) < 0 ||
	    (r = ebcc_invocation_evidence(inv, &ev)) < 0) {
		code = failed("evidence", r);
		goto out;
	}
	if (json_string_field(info, "measurement", measurement, sizeof(measurement)) < 0) {
		fprintf(stderr, "consumer: no measurement in %s\n", info);
		goto out;
	}
	good = policy(pem, measurement, "000102030405060708090a0b0c0d0e0f");
	replay = policy(pem, measurement, "ff0102030405060708090a0b0c0d0e0f");
	if (good == NULL || replay == NULL)
		goto out;
	if ((r = ebcc_evidence_verify(ctx, ev, good)) < 0) {
		code = failed("verify", r);
		goto out;
	}
	if ((r = ebcc_evidence_verify(ctx, ev, replay)) != EBCC_ERR_VERIFY) {
		fprintf(stderr, "consumer: evidence passed for another nonce (%d)\n", r);
		goto out;
	}
	if ((r = ebcc_instance_kill(inst, SIGTERM)) < 0 ||
	    (r = ebcc_instance_wait(inst, 30000, &status)) < 0) {
		code = failed("kill and wait", r);
		goto out;
	}
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM) {
		fprintf(stderr, "consumer: anchor wait status %d, not SIGTERM\n", status);
		goto out;
	}
	if ((r = ebcc_instance_delete(inst, 0)) < 0) {
		code = failed("delete", r);
		goto out;
	}
	printf("lifecycle of %s with %s: measurement %s, evidence verified (simulated)\n", ID,
	       image, measurement);
	code = 0;
out:
	if (code != 0 && inst != NULL)
		ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
	ebcc_evidence_unref(ev);
	ebcc_invocation_unref(inv);
	ebcc_instance_unref(inst);
	ebcc_context_unref(ctx);
	ebcc_free(info);
	ebcc_free(pem);
	free(good);
	free(replay);
	return code;
}

int main(int argc, char **argv)
{
	struct ebcc_context *ctx = NULL;
	const char *tmp = getenv("TMPDIR");
	char *backend = NULL, base[4096];
	int r;

	if (ebcc_version() != EBCC_VERSION) {
		fprintf(stderr, "header %s but library %s\n", EBCC_VERSION_STRING,
			ebcc_version_string());
		return 1;
	}
	r = ebcc_context_new(&ctx);
	if (r < 0 || (r = ebcc_context_get_option(ctx, "default_backend", &backend)) < 0)
		return failed("context", r);
	printf("libebcc %s, default backend %s\n", ebcc_version_string(), backend);
	ebcc_free(backend);
	ebcc_context_unref(ctx);
	if (argc < 2)
		return 0;

	snprintf(base, sizeof(base), "%s/ebcc-consumer-XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(base) == NULL) {
		fprintf(stderr, "consumer: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	r = lifecycle(argv[1], base);
	nftw(base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return r;
}
