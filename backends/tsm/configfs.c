/* SPDX-License-Identifier: MIT */
/* Reports through configfs-tsm, every step through the host operations (see configfs.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "configfs.h"
#include "ebcc-base.h"
#include "snp.h"
#include "tdx.h"

#define DISPLAY_MAX (EBCC_PATH_MAX + 64)

static const char *errno_name(int e)
{
	const char *name = strerrorname_np(e);

	return name != NULL ? name : "unknown errno";
}

const char *ebcc__tsm_provider_name(enum ebcc__tsm_provider p)
{
	switch (p) {
	case EBCC_TSM_PROVIDER_TDX:
		return "tdx_guest";
	case EBCC_TSM_PROVIDER_SNP:
		return "sev_guest";
	default:
		return NULL;
	}
}

const char *ebcc__tsm_provider_tee(enum ebcc__tsm_provider p)
{
	switch (p) {
	case EBCC_TSM_PROVIDER_TDX:
		return "Intel TDX";
	case EBCC_TSM_PROVIDER_SNP:
		return "AMD SEV-SNP";
	default:
		return NULL;
	}
}

enum ebcc__tsm_provider ebcc__tsm_provider_parse(const char *name)
{
	if (strcmp(name, "tdx_guest") == 0)
		return EBCC_TSM_PROVIDER_TDX;
	if (strcmp(name, "sev_guest") == 0)
		return EBCC_TSM_PROVIDER_SNP;
	return EBCC_TSM_PROVIDER_UNKNOWN;
}

void ebcc__tsm_blobs_clear(struct ebcc__tsm_blobs *b)
{
	free(b->outblob);
	free(b->auxblob);
	*b = (struct ebcc__tsm_blobs){ 0 };
}

/* "<what> <file>: <strerror> (<ERRNO>)" with the code errno e calls for. */
static int fail_errno(int e, const char *what, const char *file)
{
	int code;

	switch (e) {
	case EFBIG:
		code = EBCC_ERR_TOO_BIG;
		break;
	case EBUSY:
	case EAGAIN:
		code = EBCC_ERR_BUSY;
		break;
	case EACCES:
	case EPERM:
		code = EBCC_ERR_PERMISSION;
		break;
	case ENOMEM:
		code = EBCC_ERR_NO_MEMORY;
		break;
	case ENOTTY:
	case ENXIO:
	case ENODEV:
		code = EBCC_ERR_UNAVAILABLE;
		break;
	default:
		code = EBCC_ERR_IO;
		break;
	}
	return ebcc__error(code, "%s %s: %s (%s)", what, file, strerror(e), errno_name(e));
}

/* One attribute of a report instance as text, without its trailing newline. */
static int read_attr(const struct ebcc__hostops *host, int dir_fd, const char *dir,
		     const char *name, char *buf, size_t size)
{
	struct ebcc__hostfd fd _cleanup_hostfd_ = EBCC_HOSTFD_INIT(host);
	char file[DISPLAY_MAX + 16];
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	snprintf(file, sizeof(file), "%s/%s", dir, name);
	fd.fd = ebcc__host_openat(host, dir_fd, name, O_RDONLY);
	if (fd.fd < 0)
		return fail_errno(-fd.fd, "open", file);
	r = ebcc__host_read_all(host, fd.fd, EBCC_TSM_ATTR_MAX, &data, &len);
	if (r == -EFBIG)
		return ebcc__error(EBCC_ERR_BACKEND, "%s holds more than %d bytes", file,
				   EBCC_TSM_ATTR_MAX);
	if (r < 0)
		return fail_errno(-r, "read", file);
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\0'))
		len--;
	if (len >= size || memchr(data, '\0', len) != NULL) {
		free(data);
		return ebcc__error(EBCC_ERR_BACKEND, "%s is not a short line of text", file);
	}
	memcpy(buf, data, len);
	buf[len] = '\0';
	free(data);
	return 0;
}

static int read_generation(const struct ebcc__hostops *host, int dir_fd, const char *dir,
			   uint64_t *ret)
{
	char text[EBCC_TSM_ATTR_MAX + 1];
	int r = read_attr(host, dir_fd, dir, "generation", text, sizeof(text));

	if (r < 0)
		return r;
	if (ebcc__parse_u64(text, 0, UINT64_MAX, ret) < 0)
		return ebcc__error(EBCC_ERR_BACKEND, "%s/generation is \"%.32s\", not a number", dir,
				   text);
	return 0;
}

static int read_provider(const struct ebcc__hostops *host, int dir_fd, const char *dir,
			 enum ebcc__tsm_provider *ret)
{
	char text[EBCC_TSM_ATTR_MAX + 1];
	int r = read_attr(host, dir_fd, dir, "provider", text, sizeof(text));

	if (r < 0)
		return r;
	*ret = ebcc__tsm_provider_parse(text);
	if (*ret == EBCC_TSM_PROVIDER_UNKNOWN)
		return ebcc__error(EBCC_ERR_UNAVAILABLE, "%s/provider is \"%.32s\": this backend "
				   "understands tdx_guest (Intel TDX) and sev_guest (AMD SEV-SNP)",
				   dir, text);
	return 0;
}

static int write_inblob(const struct ebcc__hostops *host, int dir_fd, const char *dir,
			const uint8_t *data, size_t len)
{
	char file[DISPLAY_MAX + 16];
	int fd, r, c;

	snprintf(file, sizeof(file), "%s/inblob", dir);
	fd = ebcc__host_openat(host, dir_fd, "inblob", O_WRONLY);
	if (fd < 0)
		return fail_errno(-fd, "open", file);
	r = ebcc__host_write_all(host, fd, data, len);
	/* configfs hands a binary attribute's buffer to the provider when it is closed. */
	c = ebcc__host_close(host, &fd);
	if (r == -EFBIG)
		return ebcc__error(EBCC_ERR_TOO_BIG,
				   "write %s: the provider refused %zu bytes of report_data: %s "
				   "(EFBIG); configfs-tsm takes at most %d",
				   file, len, strerror(EFBIG), EBCC_TSM_INBLOB_MAX);
	if (r < 0)
		return fail_errno(-r, "write", file);
	if (c < 0)
		return fail_errno(-c, "close", file);
	return 0;
}

static int read_blob(const struct ebcc__hostops *host, int dir_fd, const char *dir,
		     const char *name, bool optional, uint8_t **ret, size_t *ret_len)
{
	struct ebcc__hostfd fd _cleanup_hostfd_ = EBCC_HOSTFD_INIT(host);
	char file[DISPLAY_MAX + 16];
	int r;

	*ret = NULL;
	*ret_len = 0;
	snprintf(file, sizeof(file), "%s/%s", dir, name);
	fd.fd = ebcc__host_openat(host, dir_fd, name, O_RDONLY);
	if (fd.fd == -ENOENT && optional)
		return 0; /* the provider does not show it */
	if (fd.fd < 0)
		return fail_errno(-fd.fd, "open", file);
	r = ebcc__host_pread_all(host, fd.fd, EBCC_TSM_OUTBLOB_MAX, ret, ret_len);
	if (r == -EFBIG)
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s is more than %zu bytes", file,
				   EBCC_TSM_OUTBLOB_MAX);
	if (r == -EINVAL)
		return ebcc__error(EBCC_ERR_BACKEND, "read %s: %s (EINVAL): the provider has no "
				   "inblob to report on", file, strerror(EINVAL));
	if (r < 0)
		return fail_errno(-r, "read", file);
	return 0;
}

/* The outblob is a whole report of the provider's format and covers our report_data. */
static int check_outblob(const struct ebcc__tsm_blobs *b, const char *dir,
			 const uint8_t *report_data, size_t report_data_len)
{
	uint8_t expected[EBCC_TSM_INBLOB_MAX] = { 0 };
	const uint8_t *covered;
	char prefix[DISPLAY_MAX + 16];
	int r;

	snprintf(prefix, sizeof(prefix), "%s/outblob", dir);
	if (b->outblob_len == 0)
		return ebcc__error(EBCC_ERR_BACKEND, "%s is empty: the %s provider produced no "
				   "report", prefix, ebcc__tsm_provider_name(b->provider));
	if (b->provider == EBCC_TSM_PROVIDER_TDX) {
		struct ebcc__tdx_quote q;

		r = ebcc__tdx_quote_parse(b->outblob, b->outblob_len, EBCC_ERR_BACKEND, &q);
		covered = r == 0 ? q.report_data : NULL;
	} else {
		struct ebcc__snp_report rep;

		r = ebcc__snp_report_parse(b->outblob, b->outblob_len, EBCC_ERR_BACKEND, &rep);
		covered = r == 0 ? rep.report_data : NULL;
	}
	if (r < 0)
		return ebcc__error_prefix(r, "%s", prefix);
	/* The provider zero-fills an inblob shorter than 64 bytes. */
	memcpy(expected, report_data, report_data_len);
	if (memcmp(covered, expected, sizeof(expected)) != 0)
		return ebcc__error(EBCC_ERR_BACKEND, "%s covers other REPORTDATA than the %zu bytes "
				   "written to inblob", prefix, report_data_len);
	return 0;
}

/* One attempt: 1 when the generation moved under us (another writer), 0 done, < 0 failed. */
static int attempt(const struct ebcc__hostops *host, int dir_fd, const char *dir,
		   const uint8_t *report_data, size_t report_data_len, struct ebcc__tsm_blobs *b,
		   uint64_t *ret_before, uint64_t *ret_after)
{
	uint64_t before = 0, after = 0;
	int r;

	r = read_generation(host, dir_fd, dir, &before);
	if (r == 0)
		r = write_inblob(host, dir_fd, dir, report_data, report_data_len);
	if (r == 0)
		r = read_blob(host, dir_fd, dir, "outblob", false, &b->outblob, &b->outblob_len);
	if (r == 0)
		r = read_blob(host, dir_fd, dir, "auxblob", true, &b->auxblob, &b->auxblob_len);
	if (r == 0)
		r = read_generation(host, dir_fd, dir, &after);
	if (r < 0)
		return r;
	*ret_before = before;
	*ret_after = after;
	return after != before + 1 ? 1 : 0;
}

static void entry_name(char *buf, size_t size)
{
	char rnd[17];

	if (ebcc__random_hex(rnd, 8) < 0)
		snprintf(rnd, sizeof(rnd), "%016" PRIx64, ebcc__now_ns());
	snprintf(buf, size, "ebcc-%d-%s", (int)getpid(), rnd);
}

static int make_entry(const struct ebcc__hostops *host, char *path, size_t path_size,
		      char *display, size_t display_size)
{
	char name[64], base[DISPLAY_MAX];
	int r;

	entry_name(name, sizeof(name));
	snprintf(path, path_size, "%s/%s", EBCC_TSM_REPORT_DIR, name);
	ebcc__host_display(host, path, display, display_size);
	r = host->mkdir(path, 0700, host->userdata);
	if (r == 0)
		return 0;
	ebcc__host_display(host, EBCC_TSM_REPORT_DIR, base, sizeof(base));
	if (r == -ENOENT)
		return ebcc__error(EBCC_ERR_UNAVAILABLE,
				   "no %s: configfs-tsm not mounted or no TSM provider", base);
	if (r == -ENXIO)
		return ebcc__error(EBCC_ERR_UNAVAILABLE,
				   "mkdir %s: %s (ENXIO): no TSM provider is registered with "
				   "configfs-tsm (the tdx_guest or sev_guest driver is not loaded)",
				   display, strerror(ENXIO));
	return fail_errno(-r, "mkdir", display);
}

int ebcc__tsm_configfs_report(const struct ebcc__hostops *host, const uint8_t *report_data,
			      size_t report_data_len, struct ebcc__tsm_blobs *ret)
{
	struct ebcc__tsm_blobs b = { 0 };
	char path[EBCC_PATH_MAX], dir[DISPLAY_MAX];
	uint64_t before = 0, after = 0;
	int dir_fd = -1, r, rr;

	if (report_data == NULL || report_data_len == 0 || report_data_len > EBCC_TSM_INBLOB_MAX)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "report_data of %zu bytes (1..%d)",
				   report_data_len, EBCC_TSM_INBLOB_MAX);
	r = make_entry(host, path, sizeof(path), dir, sizeof(dir));
	if (r < 0)
		return r;
	dir_fd = ebcc__host_open(host, path, O_RDONLY | O_DIRECTORY);
	if (dir_fd < 0) {
		r = fail_errno(-dir_fd, "open", dir);
		goto out;
	}
	r = read_provider(host, dir_fd, dir, &b.provider);
	for (unsigned i = 0; r == 0 && i < EBCC_TSM_ATTEMPTS; i++) {
		free(b.outblob);
		free(b.auxblob);
		b.outblob = b.auxblob = NULL;
		b.attempts = i + 1;
		r = attempt(host, dir_fd, dir, report_data, report_data_len, &b, &before, &after);
		if (r == 1 && i + 1 == EBCC_TSM_ATTEMPTS)
			r = ebcc__error(EBCC_ERR_BUSY,
					"%s/generation moved from %" PRIu64 " to %" PRIu64 " while "
					"one report was made, so another writer used the instance; "
					"gave up after %d attempts",
					dir, before, after, EBCC_TSM_ATTEMPTS);
		else if (r == 1)
			r = 0; /* again */
		else if (r == 0)
			break;
	}
	if (r == 0)
		r = check_outblob(&b, dir, report_data, report_data_len);
out:
	ebcc__host_close(host, &dir_fd);
	rr = host->rmdir(path, host->userdata);
	if (r == 0 && rr < 0)
		r = fail_errno(-rr, "rmdir", dir);
	if (r < 0) {
		ebcc__tsm_blobs_clear(&b);
		return r;
	}
	*ret = b;
	return 0;
}

int ebcc__tsm_configfs_check(const struct ebcc__hostops *host,
			     enum ebcc__tsm_provider *ret_provider)
{
	char path[EBCC_PATH_MAX], dir[DISPLAY_MAX], base[DISPLAY_MAX];
	int fd, dir_fd, r, rr;

	ebcc__host_display(host, EBCC_TSM_REPORT_DIR, base, sizeof(base));
	fd = ebcc__host_open(host, EBCC_TSM_REPORT_DIR, O_RDONLY | O_DIRECTORY);
	if (fd == -ENOENT)
		return ebcc__error(EBCC_ERR_UNAVAILABLE,
				   "no %s: configfs-tsm not mounted or no TSM provider", base);
	if (fd < 0)
		return fail_errno(-fd, "open", base);
	ebcc__host_close(host, &fd);
	r = make_entry(host, path, sizeof(path), dir, sizeof(dir));
	if (r < 0)
		return r;
	dir_fd = ebcc__host_open(host, path, O_RDONLY | O_DIRECTORY);
	r = dir_fd < 0 ? fail_errno(-dir_fd, "open", dir)
		       : read_provider(host, dir_fd, dir, ret_provider);
	ebcc__host_close(host, &dir_fd);
	rr = host->rmdir(path, host->userdata);
	if (r == 0 && rr < 0)
		r = fail_errno(-rr, "rmdir", dir);
	return r;
}

int ebcc__tsm_configfs_probe(const struct ebcc__hostops *host,
			     enum ebcc__tsm_provider *ret_provider, char *reason,
			     size_t reason_size)
{
	char saved[EBCC_ERROR_MESSAGE_MAX];
	int r;

	ebcc__error_save(saved);
	r = ebcc__tsm_configfs_check(host, ret_provider);
	if (r == 0)
		return 1;
	snprintf(reason, reason_size, "%s", ebcc__error_message());
	ebcc__error_restore(saved);
	return r == EBCC_ERR_NO_MEMORY ? r : 0;
}
