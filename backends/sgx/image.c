/* SPDX-License-Identifier: MIT */
/* An sgx stage image: a ustar archive of enclave.bin, layout.json and sigstruct (image.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bytes.h"
#include "ebcc-base.h"
#include "image.h"
#include "ustar.h"

#define ERR EBCC_ERR_INVALID_ARG
#define PAGE EBCC_SGX_PAGE_SIZE
/* SECS.SIZE at most: far above any EPC, far below an overflow of offset + length. */
#define ENCLAVE_SIZE_MAX (UINT64_C(64) << 30)
#define SSA_FRAME_SIZE_MAX 16
#define SEGMENTS_MAX 256
#define SS_XFRM (EBCC_SGX_SS_ATTRIBUTES + 8)
/* "<display>: layout.json: segments[255]" */
#define WHERE_SIZE (EBCC_PATH_MAX + 64)

enum { FILE_ENCLAVE, FILE_LAYOUT, FILE_SIGSTRUCT, FILES };

static const char *const names[FILES] = {
	[FILE_ENCLAVE] = "enclave.bin",
	[FILE_LAYOUT] = "layout.json",
	[FILE_SIGSTRUCT] = "sigstruct",
};

static const struct ebcc__ustar_members members = { "an sgx stage image", names, FILES };

/* r, w and x in that order, at least one, w only with r: SECINFO's permission bits. */
static int permissions(struct json_object *p, const char *where, uint64_t *ret)
{
	static const struct {
		char letter;
		uint64_t flag;
	} bits[] = { { 'r', EBCC_SGX_SECINFO_R }, { 'w', EBCC_SGX_SECINFO_W },
		     { 'x', EBCC_SGX_SECINFO_X } };
	const char *s = json_object_get_string(p);
	char shown[EBCC_EVIDENCE_SHOW_SIZE];
	uint64_t flags = 0;
	size_t i = 0;

	for (size_t b = 0; b < sizeof(bits) / sizeof(bits[0]); b++) {
		if (s[i] == bits[b].letter) {
			flags |= bits[b].flag;
			i++;
		}
	}
	ebcc__evidence_show(s, strlen(s), shown);
	if (i == 0 || s[i] != '\0')
		return ebcc__error(ERR, "%s.permissions: \"%s\" is not r, w and x in that order "
				   "(\"r\", \"rw\", \"rx\", \"rwx\" or \"x\")", where, shown);
	if ((flags & EBCC_SGX_SECINFO_W) && !(flags & EBCC_SGX_SECINFO_R))
		return ebcc__error(ERR, "%s.permissions: \"%s\" gives w without r, which SGX "
				   "refuses", where, shown);
	*ret = EBCC_SGX_SECINFO_REG | flags;
	return 0;
}

static int segment_read(struct json_object *o, size_t index, const char *display,
			struct ebcc__sgx_image *im)
{
	static const char *const known[] = { "offset", "pages", "type", "permissions", "measure",
					     NULL };
	struct json_object *type = NULL, *perms = NULL, *measure = NULL;
	char where[WHERE_SIZE], shown[EBCC_EVIDENCE_SHOW_SIZE];
	uint64_t offset = 0, pages = 0, flags = 0;
	const char *t;
	int r;

	snprintf(where, sizeof(where), "%s: layout.json: segments[%zu]", display, index);
	if (!json_object_is_type(o, json_type_object))
		return ebcc__error(ERR, "%s must be an object, not %s", where,
				   ebcc__json_type_article(o));
	r = ebcc__json_refuse_unknown(o, known, ERR, where);
	if (r == 0)
		r = ebcc__json_u64_member(o, "offset", true, 0, ENCLAVE_SIZE_MAX, ERR, where,
					  &offset);
	if (r == 0 && offset % PAGE != 0)
		r = ebcc__error(ERR, "%s.offset: %" PRIu64 " is not a multiple of %d", where,
				offset, PAGE);
	if (r == 0)
		r = ebcc__json_u64_member(o, "pages", true, 1, ENCLAVE_SIZE_MAX / PAGE, ERR, where,
					  &pages);
	if (r == 0)
		r = ebcc__json_member(o, "type", json_type_string, true, ERR, where, &type);
	if (r == 0)
		r = ebcc__json_member(o, "permissions", json_type_string, false, ERR, where,
				      &perms);
	if (r == 0)
		r = ebcc__json_member(o, "measure", json_type_boolean, false, ERR, where, &measure);
	if (r < 0)
		return r;
	t = json_object_get_string(type);
	if (strcmp(t, "tcs") == 0) {
		/* Present at all, even null: a TCS page has no permissions to give. */
		if (json_object_object_get_ex(o, "permissions", NULL))
			return ebcc__error(ERR, "%s: a \"tcs\" segment has no \"permissions\" (a "
					   "TCS page's SECINFO gives none)", where);
		flags = EBCC_SGX_SECINFO_TCS;
	} else if (strcmp(t, "reg") == 0) {
		if (perms == NULL)
			return ebcc__error(ERR, "%s: a \"reg\" segment needs \"permissions\"",
					   where);
		r = permissions(perms, where, &flags);
		if (r < 0)
			return r;
	} else {
		ebcc__evidence_show(t, strlen(t), shown);
		return ebcc__error(ERR, "%s.type: \"%s\" is neither \"tcs\" nor \"reg\"", where,
				   shown);
	}
	if (offset > im->enclave_len || pages * PAGE > im->enclave_len - offset)
		return ebcc__error(ERR, "%s: %" PRIu64 " pages at offset %" PRIu64 " end past "
				   "enclave.bin (%zu bytes)", where, pages, offset,
				   im->enclave_len);
	im->segments[index] = (struct ebcc__sgx_segment){
		.offset = offset,
		.length = pages * PAGE,
		.secinfo_flags = flags,
		.measure = measure == NULL || json_object_get_boolean(measure),
		.data = im->enclave + offset,
	};
	return 0;
}

/* The segments into im->segments (allocated here), and the entry TCS. */
static int segments_read(struct json_object *segments, const char *where, const char *display,
			 struct ebcc__sgx_image *im)
{
	size_t n = json_object_array_length(segments), tcs;
	int r = 0;

	if (n == 0 || n > SEGMENTS_MAX)
		return ebcc__error(ERR, "%s: segments: %zu entries; there must be 1..%d", where, n,
				   SEGMENTS_MAX);
	im->segments = calloc(n, sizeof(*im->segments));
	if (im->segments == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory reading %s", where);
	im->n_segments = n;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = segment_read(json_object_array_get_idx(segments, i), i, display, im);
	if (r < 0)
		return r;
	for (tcs = 0; tcs < n && im->segments[tcs].secinfo_flags != EBCC_SGX_SECINFO_TCS; tcs++)
		;
	if (tcs == n)
		return ebcc__error(ERR, "%s: segments: no \"tcs\" segment (an enclave is entered "
				   "at a TCS)", where);
	im->tcs_offset = im->segments[tcs].offset;
	return 0;
}

/* layout.json into im->layout. */
static int layout_read(const char *text, size_t len, const char *display,
		       struct ebcc__sgx_image *im)
{
	static const char *const known[] = { "size", "ssaFrameSize", "segments", NULL };
	struct json_object *root = NULL, *segments = NULL;
	char where[WHERE_SIZE];
	uint64_t size = 0, ssa = 0;
	int r;

	snprintf(where, sizeof(where), "%s: layout.json", display);
	r = ebcc__json_parse_document(text, len, ERR, where, &root);
	if (r < 0)
		return r;
	r = ebcc__json_refuse_unknown(root, known, ERR, where);
	if (r == 0)
		r = ebcc__json_u64_member(root, "size", true, 2 * PAGE, ENCLAVE_SIZE_MAX, ERR,
					  where, &size);
	if (r == 0 && (size & (size - 1)) != 0)
		r = ebcc__error(ERR, "%s: size: %" PRIu64 " is not a power of two", where, size);
	/* Bytes past SECS.SIZE could never be added: the layout is not this enclave.bin's. */
	if (r == 0 && im->enclave_len > size)
		r = ebcc__error(ERR, "%s: enclave.bin is %zu bytes, more than the enclave's size "
				"in layout.json (%" PRIu64 ")", display, im->enclave_len, size);
	if (r == 0)
		r = ebcc__json_u64_member(root, "ssaFrameSize", true, 1, SSA_FRAME_SIZE_MAX, ERR,
					  where, &ssa);
	if (r == 0)
		r = ebcc__json_member(root, "segments", json_type_array, true, ERR, where,
				      &segments);
	if (r == 0)
		r = segments_read(segments, where, display, im);
	if (r == 0)
		im->layout = (struct ebcc__sgx_layout){ size, (uint32_t)ssa, im->segments,
							im->n_segments };
	json_object_put(root);
	return r;
}

static int parse(const uint8_t *buf, size_t len, const char *display, struct ebcc__sgx_image *im)
{
	const uint8_t *files[FILES];
	size_t lens[FILES];
	const uint8_t *ss;
	int r = ebcc__ustar_split(buf, len, display, &members, files, lens);

	if (r < 0)
		return r;
	if (lens[FILE_ENCLAVE] % PAGE != 0)
		return ebcc__error(ERR, "%s: enclave.bin is %zu bytes, not a multiple of the page "
				   "size (%d)", display, lens[FILE_ENCLAVE], PAGE);
	if (lens[FILE_SIGSTRUCT] != EBCC_SGX_SIGSTRUCT_SIZE)
		return ebcc__error(ERR, "%s: sigstruct is %zu bytes; a SIGSTRUCT is %d", display,
				   lens[FILE_SIGSTRUCT], EBCC_SGX_SIGSTRUCT_SIZE);
	im->enclave = files[FILE_ENCLAVE];
	im->enclave_len = lens[FILE_ENCLAVE];
	im->sigstruct = ss = files[FILE_SIGSTRUCT];
	r = layout_read((const char *)files[FILE_LAYOUT], lens[FILE_LAYOUT], display, im);
	if (r < 0)
		return r;
	r = ebcc__sgx_mrenclave(&im->layout, im->mrenclave);
	if (r < 0)
		return ebcc__error_prefix(r, "%s: layout.json", display);
	r = ebcc__sgx_sigstruct_check(ss, im->mrenclave, im->mrsigner);
	if (r < 0)
		return ebcc__error_prefix(r, "%s: sigstruct", display);
	im->secs = (struct ebcc__sgx_secs_params){
		.attributes = ebcc__le64(ss + EBCC_SGX_SS_ATTRIBUTES),
		.xfrm = ebcc__le64(ss + SS_XFRM),
		.miscselect = ebcc__le32(ss + EBCC_SGX_SS_BODY),
	};
	memcpy(im->measurement, "sgx:", 4);
	ebcc__hex_encode(im->mrenclave, sizeof(im->mrenclave), im->measurement + 4);
	return 0;
}

int ebcc__sgx_image_parse(const uint8_t *buf, size_t len, const char *display,
			  struct ebcc__sgx_image *ret)
{
	struct ebcc__sgx_image im = { 0 };
	int r = parse(buf, len, display, &im);

	if (r < 0)
		ebcc__sgx_image_clear(&im);
	*ret = im;
	return r;
}

int ebcc__sgx_image_read(int fd, const char *display, struct ebcc__sgx_image *ret)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	*ret = (struct ebcc__sgx_image){ 0 };
	if (lseek(fd, 0, SEEK_SET) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "seek %s", display);
	r = ebcc__read_all(fd, EBCC_STAGE_IMAGE_MAX, display, &data, &len);
	if (r < 0)
		return r;
	r = ebcc__sgx_image_parse((const uint8_t *)data, len, display, ret);
	if (r < 0) {
		free(data);
		return r;
	}
	ret->data = (uint8_t *)data;
	ret->len = len;
	return 0;
}

void ebcc__sgx_image_clear(struct ebcc__sgx_image *im)
{
	free(im->data);
	free(im->segments);
	*im = (struct ebcc__sgx_image){ 0 };
}

int ebcc__sgx_image_measure_fd(int fd, const char *display, char *out, size_t out_size)
{
	struct ebcc__sgx_image im;
	int r = ebcc__sgx_image_read(fd, display, &im);

	if (r < 0)
		return r;
	snprintf(out, out_size, "%s", im.measurement);
	ebcc__sgx_image_clear(&im);
	return 0;
}
