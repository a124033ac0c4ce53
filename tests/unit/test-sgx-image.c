/* SPDX-License-Identifier: MIT */
/*
 * sgx stage images (backends/sgx/image.c): ustar archives of enclave.bin, layout.json and
 * sigstruct as sgx-stage-image.h and GNU tar write them; their measurement (sgx:MRENCLAVE), the
 * layout, entry TCS and SECS fields read from them; and every malformed image refused with its
 * reason and nothing left in the result, a SIGSTRUCT that does not verify or is for another
 * enclave among them.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../backends/sgx/image.h"
#include "../api/bundleutil.h"
#include "ebcc/ebcc.h"
#include "sgx-stage-image.h"

/* The standard test enclave (sgx-image.h) as enclave.bin, and its SIGSTRUCT. */
struct fixture {
	EVP_PKEY *key;
	struct image *im;
	uint8_t enclave[8 * PAGE];
	uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE];
};

static struct fixture *f;

static void sign(const struct ebcc__sgx_sigstruct_params *p, uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE])
{
	assert_int_equal(ebcc__sgx_sigstruct_sign(p, f->key, ss), 0);
}

static int group_setup(void **state)
{
	struct ebcc__sgx_sigstruct_params p;

	(void)state;
	f = calloc(1, sizeof(*f));
	f->im = malloc(sizeof(*f->im));
	f->key = sgx_stage_key();
	image_init(f->im);
	sgx_stage_enclave(f->im, f->enclave);
	p = sgx_stage_params(&f->im->layout);
	sign(&p, f->ss);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(f->key);
	free(f->im);
	free(f);
	return 0;
}

static void measurement_of(const struct ebcc__sgx_layout *l, char out[EBCC_SGX_MEASUREMENT_SIZE])
{
	uint8_t mrenclave[32];

	assert_int_equal(ebcc__sgx_mrenclave(l, mrenclave), 0);
	memcpy(out, "sgx:", 4);
	ebcc__hex_encode(mrenclave, 32, out + 4);
}

static void parses_the_standard_image(void **state)
{
	struct ebcc__sgx_image im;
	char want[EBCC_SGX_MEASUREMENT_SIZE];
	uint8_t mrenclave[32], mrsigner[32];
	size_t len;
	uint8_t *buf = sgx_stage_image(f->enclave, sizeof(f->enclave), SGX_STAGE_LAYOUT_JSON, f->ss,
				       &len);

	(void)state;
	assert_int_equal(ebcc__sgx_image_parse(buf, len, "img", &im), 0);
	measurement_of(&f->im->layout, want);
	assert_string_equal(im.measurement, want);
	assert_int_equal(ebcc__sgx_mrenclave(&f->im->layout, mrenclave), 0);
	assert_memory_equal(im.mrenclave, mrenclave, 32);
	assert_int_equal(ebcc__sgx_sigstruct_check(f->ss, NULL, mrsigner), 0);
	assert_memory_equal(im.mrsigner, mrsigner, 32);
	assert_null(im.data);
	assert_ptr_equal(im.enclave, buf + SGX_STAGE_BLOCK);
	assert_int_equal(im.enclave_len, sizeof(f->enclave));
	assert_memory_equal(im.sigstruct, f->ss, sizeof(f->ss));
	assert_int_equal(im.tcs_offset, 0);
	assert_int_equal(im.secs.attributes, SGX_STAGE_ATTR_MODE64BIT);
	assert_int_equal(im.secs.xfrm, 3);
	assert_int_equal(im.secs.miscselect, 0);
	assert_int_equal(im.layout.size, 0x8000);
	assert_int_equal(im.layout.ssa_frame_size, 1);
	assert_ptr_equal(im.layout.segments, im.segments);
	assert_int_equal(im.layout.n_segments, 4);
	assert_int_equal(im.n_segments, 4);
	for (size_t i = 0; i < 4; i++) {
		const struct ebcc__sgx_segment *got = &im.segments[i], *seg = &f->im->seg[i];

		assert_int_equal(got->offset, seg->offset);
		assert_int_equal(got->length, seg->length);
		assert_int_equal(got->secinfo_flags, seg->secinfo_flags);
		assert_int_equal(got->measure, seg->measure);
		assert_ptr_equal(got->data, im.enclave + seg->offset);
		assert_memory_equal(got->data, seg->data, seg->length);
	}
	ebcc__sgx_image_clear(&im);
	free(buf);
}

/* tar in dir with options, into dir/out. */
static void run_tar(const char *dir, const char *options, const char *members, const char *out)
{
	char *cmd;

	assert_true(asprintf(&cmd, "cd '%s' && tar %s -cf '%s' %s", dir, options, out,
			     members) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void parses_what_tar_writes(void **state)
{
	static const char *const formats[] = { "--format=ustar", "--format=gnu", "" };
	static const char *const orders[] = { "enclave.bin layout.json sigstruct",
					      "sigstruct enclave.bin layout.json" };
	char *dir = scratch_dir("sgx-image"), want[EBCC_SGX_MEASUREMENT_SIZE];

	(void)state;
	write_file(dir, "enclave.bin", (const char *)f->enclave, sizeof(f->enclave));
	write_file(dir, "layout.json", SGX_STAGE_LAYOUT_JSON, strlen(SGX_STAGE_LAYOUT_JSON));
	write_file(dir, "sigstruct", (const char *)f->ss, sizeof(f->ss));
	measurement_of(&f->im->layout, want);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		for (size_t o = 0; o < 2; o++) {
			struct ebcc__sgx_image im;
			char *path;
			int fd;

			run_tar(dir, formats[i], orders[o], "stage.tar");
			assert_true(asprintf(&path, "%s/stage.tar", dir) > 0);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			assert_true(fd >= 0);
			assert_int_equal(ebcc__sgx_image_read(fd, path, &im), 0);
			assert_string_equal(im.measurement, want);
			assert_memory_equal(im.enclave, f->enclave, sizeof(f->enclave));
			ebcc__sgx_image_clear(&im);
			close(fd);
			free(path);
		}
	}
	scratch_remove(dir);
}

/* The first TCS is entered wherever it is; the SECS fields are the SIGSTRUCT body's. */
static void entry_tcs_and_secs_from_the_sigstruct(void **state)
{
	static const char layout[] =
		"{\"size\": 32768, \"ssaFrameSize\": 2, \"segments\": ["
		"{\"offset\": 4096, \"pages\": 2, \"type\": \"reg\", \"permissions\": \"rwx\"},"
		"{\"offset\": 12288, \"pages\": 1, \"type\": \"reg\", \"permissions\": \"x\"},"
		"{\"offset\": 16384, \"pages\": 1, \"type\": \"tcs\", \"measure\": true},"
		"{\"offset\": 20480, \"pages\": 1, \"type\": \"tcs\", \"measure\": false}]}";
	const struct ebcc__sgx_segment seg[] = {
		{ 4096, 2 * PAGE, RW | EBCC_SGX_SECINFO_X, true, f->enclave + 4096 },
		{ 12288, PAGE, EBCC_SGX_SECINFO_REG | EBCC_SGX_SECINFO_X, true,
		  f->enclave + 12288 },
		{ 16384, PAGE, EBCC_SGX_SECINFO_TCS, true, f->enclave + 16384 },
		{ 20480, PAGE, EBCC_SGX_SECINFO_TCS, false, f->enclave + 20480 },
	};
	const struct ebcc__sgx_layout l = { 0x8000, 2, seg, 4 };
	struct ebcc__sgx_sigstruct_params p = sgx_stage_params(&l);
	char want[EBCC_SGX_MEASUREMENT_SIZE];
	uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE], *buf;
	struct ebcc__sgx_image im;
	size_t len;

	(void)state;
	p.miscselect = 1;
	p.misc_mask = ~UINT32_C(0);
	p.attributes = SGX_STAGE_ATTR_MODE64BIT | 0x2;
	p.xfrm = 7;
	sign(&p, ss);
	buf = sgx_stage_image(f->enclave, sizeof(f->enclave), layout, ss, &len);
	assert_int_equal(ebcc__sgx_image_parse(buf, len, "img", &im), 0);
	measurement_of(&l, want);
	assert_string_equal(im.measurement, want);
	assert_int_equal(im.tcs_offset, 16384);
	assert_int_equal(im.secs.miscselect, 1);
	assert_int_equal(im.secs.attributes, 0x6);
	assert_int_equal(im.secs.xfrm, 7);
	assert_int_equal(im.layout.ssa_frame_size, 2);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(im.segments[i].secinfo_flags, seg[i].secinfo_flags);
		assert_int_equal(im.segments[i].measure, seg[i].measure);
	}
	ebcc__sgx_image_clear(&im);
	free(buf);
}

/* ---- refusals --------------------------------------------------------------------------- */

static void refuse(const uint8_t *buf, size_t len, int code, const char *why)
{
	struct ebcc__sgx_image im;
	int r;

	memset(&im, 0x5a, sizeof(im));
	r = ebcc__sgx_image_parse(buf, len, "img", &im);
	if (r != code || strstr(ebcc_last_error_message(), why) == NULL)
		fail_msg("wanted %s \"%s\", got %s: %s", ebcc_error_name(code), why,
			 ebcc_error_name(r), ebcc_last_error_message());
	/* Cleared: nothing to free, nothing pointing into buf. */
	assert_null(im.data);
	assert_null(im.segments);
	assert_null(im.enclave);
	assert_null(im.sigstruct);
	assert_int_equal(im.n_segments, 0);
	assert_int_equal(im.measurement[0], '\0');
}

static void refuse_members(const struct sgx_stage_member *m, size_t n, const char *why)
{
	size_t len;
	uint8_t *buf = sgx_stage_tar(m, n, &len);

	refuse(buf, len, EBCC_ERR_INVALID_ARG, why);
	free(buf);
}

static void refuses_other_members(void **state)
{
	const struct sgx_stage_member enclave = { "enclave.bin", f->enclave, sizeof(f->enclave) };
	const struct sgx_stage_member layout = { "layout.json", SGX_STAGE_LAYOUT_JSON,
						 strlen(SGX_STAGE_LAYOUT_JSON) };
	const struct sgx_stage_member sigstruct = { "sigstruct", f->ss, sizeof(f->ss) };
	const struct sgx_stage_member extra = { "extra", "x", 1 };

	(void)state;
	refuse_members((const struct sgx_stage_member[]){ enclave, layout }, 2,
		       "img: no member sigstruct (an sgx stage image holds enclave.bin, "
		       "layout.json and sigstruct)");
	refuse_members((const struct sgx_stage_member[]){ enclave, layout, sigstruct, extra }, 4,
		       "img: more than enclave.bin, layout.json and sigstruct: non-zero bytes at "
		       "byte");
	refuse_members((const struct sgx_stage_member[]){ enclave, extra, sigstruct }, 3,
		       "img: member \"extra\" at byte 33280 is not one of enclave.bin, "
		       "layout.json, sigstruct");
	refuse_members((const struct sgx_stage_member[]){ enclave, layout, enclave }, 3,
		       "img: member enclave.bin appears twice");
	refuse_members((const struct sgx_stage_member[]){
			       enclave, layout, { "sigstruct", f->ss, sizeof(f->ss) - 1 } }, 3,
		       "img: sigstruct is 1807 bytes; a SIGSTRUCT is 1808");
	refuse_members((const struct sgx_stage_member[]){
			       { "enclave.bin", f->enclave, sizeof(f->enclave) - 1 }, layout,
			       sigstruct }, 3,
		       "img: enclave.bin is 32767 bytes, not a multiple of the page size (4096)");
	refuse_members((const struct sgx_stage_member[]){
			       { "enclave.bin", f->enclave, 6 * PAGE }, layout, sigstruct }, 3,
		       "img: layout.json: segments[3]: 4 pages at offset 16384 end past "
		       "enclave.bin (24576 bytes)");
	refuse(NULL, 0, EBCC_ERR_INVALID_ARG, "img: no member enclave.bin");
}

/* text with ' for " (so that the cases below read as JSON), malloc. */
static char *json(const char *text)
{
	char *s = strdup(text);

	assert_non_null(s);
	for (char *p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

/* The standard layout.json (in ' quotes) with top for its first keys (NULL: as it is) and
 * segment i replaced by seg. */
static char *layout_with(const char *top, int i, const char *seg)
{
	const char *segs[] = {
		"{'offset': 0, 'pages': 1, 'type': 'tcs'}",
		"{'offset': 4096, 'pages': 1, 'type': 'reg', 'permissions': 'rw'}",
		"{'offset': 8192, 'pages': 2, 'type': 'reg', 'permissions': 'rx'}",
		("{'offset': 16384, 'pages': 4, 'type': 'reg', 'permissions': 'rw', "
		 "'measure': false}"),
	};
	char *text, *quoted;

	if (i >= 0)
		segs[i] = seg;
	assert_true(asprintf(&text, "{%s, 'segments': [%s, %s, %s, %s]}",
			     top != NULL ? top : "'size': 32768, 'ssaFrameSize': 1", segs[0],
			     segs[1], segs[2], segs[3]) > 0);
	quoted = json(text);
	free(text);
	return quoted;
}

/* The standard image with layout.json text (freed here). */
static void refuse_layout(char *text, const char *why)
{
	size_t len;
	uint8_t *buf = sgx_stage_image(f->enclave, sizeof(f->enclave), text, f->ss, &len);

	refuse(buf, len, EBCC_ERR_INVALID_ARG, why);
	free(buf);
	free(text);
}

static void refuses_bad_layouts(void **state)
{
	char *many;
	size_t n = 0;

	(void)state;
	refuse_layout(json("{'size': 32768,"), "img: layout.json: truncated JSON");
	refuse_layout(json("{size: 32768}"), "img: layout.json: invalid JSON at byte 1");
	refuse_layout(json("[1]"), "img: layout.json: must be a JSON object, not an array");
	refuse_layout(layout_with("'size': 32768, 'size': 32768, 'ssaFrameSize': 1", -1, NULL),
		      "img: layout.json: duplicate key \"size\"");
	refuse_layout(layout_with("'size': 32768, 'ssaFrameSize': 1, 'heap': 4", -1, NULL),
		      "img: layout.json: unknown key \"heap\" (known: size, ssaFrameSize, "
		      "segments)");
	refuse_layout(layout_with("'ssaFrameSize': 1", -1, NULL),
		      "img: layout.json: \"size\" is missing");
	refuse_layout(layout_with("'size': '32768', 'ssaFrameSize': 1", -1, NULL),
		      "img: layout.json: \"size\" must be an integer, not a string");
	refuse_layout(layout_with("'size': 32768.0, 'ssaFrameSize': 1", -1, NULL),
		      "img: layout.json: \"size\" must be an integer, not a fractional number");
	refuse_layout(layout_with("'size': 24576, 'ssaFrameSize': 1", -1, NULL),
		      "img: layout.json: size: 24576 is not a power of two");
	refuse_layout(layout_with("'size': 137438953472, 'ssaFrameSize': 1", -1, NULL),
		      "img: layout.json: \"size\" is 137438953472; it must be in "
		      "8192..68719476736");
	refuse_layout(layout_with("'size': 16384, 'ssaFrameSize': 1", -1, NULL),
		      "img: enclave.bin is 32768 bytes, more than the enclave's size in "
		      "layout.json (16384)");
	refuse_layout(layout_with("'size': 32768, 'ssaFrameSize': 17", -1, NULL),
		      "img: layout.json: \"ssaFrameSize\" is 17; it must be in 1..16");
	refuse_layout(json("{'size': 32768, 'ssaFrameSize': 1, 'segments': []}"),
		      "img: layout.json: segments: 0 entries; there must be 1..256");
	refuse_layout(json("{'size': 32768, 'ssaFrameSize': 1, 'segments': {}}"),
		      "img: layout.json: \"segments\" must be an array, not an object");
	many = malloc(300 * 64);
	assert_non_null(many);
	n += (size_t)sprintf(many, "{'size': 32768, 'ssaFrameSize': 1, 'segments': [");
	for (int i = 0; i < 257; i++)
		n += (size_t)sprintf(many + n, "%s{'offset': 0, 'pages': 1, 'type': 'tcs'}",
				     i > 0 ? ", " : "");
	sprintf(many + n, "]}");
	refuse_layout(json(many), "img: layout.json: segments: 257 entries; there must be "
		      "1..256");
	free(many);

	refuse_layout(layout_with(NULL, 1, "[]"),
		      "img: layout.json: segments[1] must be an object, not an array");
	refuse_layout(layout_with(NULL, 1, "{'offset': 4096, 'pages': 1, 'type': 'reg', "
					   "'permissions': 'rw', 'flags': 3}"),
		      "img: layout.json: segments[1]: unknown key \"flags\" (known: offset, "
		      "pages, type, permissions, measure)");
	refuse_layout(layout_with(NULL, 2, "{'offset': 8191, 'pages': 2, 'type': 'reg', "
					   "'permissions': 'rx'}"),
		      "img: layout.json: segments[2].offset: 8191 is not a multiple of 4096");
	refuse_layout(layout_with(NULL, 2, "{'offset': -8192, 'pages': 2, 'type': 'reg', "
					   "'permissions': 'rx'}"),
		      "img: layout.json: segments[2]: \"offset\" is -8192; it must be in "
		      "0..68719476736");
	refuse_layout(layout_with(NULL, 2, "{'offset': '8192', 'pages': 2, 'type': 'reg', "
					   "'permissions': 'rx'}"),
		      "img: layout.json: segments[2]: \"offset\" must be an integer, not a "
		      "string");
	refuse_layout(layout_with(NULL, 2, "{'pages': 2, 'type': 'reg', 'permissions': 'rx'}"),
		      "img: layout.json: segments[2]: \"offset\" is missing");
	refuse_layout(layout_with(NULL, 2, "{'offset': 8192, 'pages': 0, 'type': 'reg', "
					   "'permissions': 'rx'}"),
		      "img: layout.json: segments[2]: \"pages\" is 0; it must be in 1..");
	refuse_layout(layout_with(NULL, 3, "{'offset': 16384, 'pages': 5, 'type': 'reg', "
					   "'permissions': 'rw'}"),
		      "img: layout.json: segments[3]: 5 pages at offset 16384 end past "
		      "enclave.bin (32768 bytes)");
	refuse_layout(layout_with(NULL, 2, "{'offset': 0, 'pages': 2, 'type': 'reg', "
					   "'permissions': 'rx'}"),
		      "img: layout.json: SGX segment 2 at 0x0 overlaps or precedes the one "
		      "before it");
	refuse_layout(layout_with(NULL, 1, "{'offset': 4096, 'pages': 1, 'type': 'reg', "
					   "'permissions': 'wx'}"),
		      "img: layout.json: segments[1].permissions: \"wx\" gives w without r");
	refuse_layout(layout_with(NULL, 1, "{'offset': 4096, 'pages': 1, 'type': 'reg', "
					   "'permissions': 'w'}"),
		      "img: layout.json: segments[1].permissions: \"w\" gives w without r");
	refuse_layout(layout_with(NULL, 1, "{'offset': 4096, 'pages': 1, 'type': 'reg', "
					   "'permissions': 'xr'}"),
		      "img: layout.json: segments[1].permissions: \"xr\" is not r, w and x in "
		      "that order");
	refuse_layout(layout_with(NULL, 1, "{'offset': 4096, 'pages': 1, 'type': 'reg', "
					   "'permissions': ''}"),
		      "img: layout.json: segments[1].permissions: \"\" is not r, w and x");
	refuse_layout(layout_with(NULL, 1, "{'offset': 4096, 'pages': 1, 'type': 'reg', "
					   "'permissions': 6}"),
		      "img: layout.json: segments[1]: \"permissions\" must be a string, not an "
		      "integer");
	refuse_layout(layout_with(NULL, 1, "{'offset': 4096, 'pages': 1, 'type': 'reg'}"),
		      "img: layout.json: segments[1]: a \"reg\" segment needs \"permissions\"");
	refuse_layout(layout_with(NULL, 0, "{'offset': 0, 'pages': 1, 'type': 'tcs', "
					   "'permissions': 'rw'}"),
		      "img: layout.json: segments[0]: a \"tcs\" segment has no \"permissions\"");
	refuse_layout(layout_with(NULL, 0, "{'offset': 0, 'pages': 1, 'type': 'tcs', "
					   "'permissions': null}"),
		      "img: layout.json: segments[0]: a \"tcs\" segment has no \"permissions\"");
	refuse_layout(layout_with(NULL, 0, "{'offset': 0, 'pages': 1, 'type': 'ssa'}"),
		      "img: layout.json: segments[0].type: \"ssa\" is neither \"tcs\" nor "
		      "\"reg\"");
	refuse_layout(layout_with(NULL, 0, "{'offset': 0, 'pages': 1, 'permissions': 'rw'}"),
		      "img: layout.json: segments[0]: \"type\" is missing");
	refuse_layout(layout_with(NULL, 0, "{'offset': 0, 'pages': 1, 'type': 'reg', "
					   "'permissions': 'rw'}"),
		      "img: layout.json: segments: no \"tcs\" segment");
	refuse_layout(layout_with(NULL, 3, "{'offset': 16384, 'pages': 4, 'type': 'reg', "
					   "'permissions': 'rw', 'measure': 'no'}"),
		      "img: layout.json: segments[3]: \"measure\" must be a boolean, not a string");
}

static void refuses_sigstructs_that_do_not_verify(void **state)
{
	struct image *other = malloc(sizeof(*other));
	struct ebcc__sgx_sigstruct_params p;
	uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE], *buf;
	size_t len;

	(void)state;
	/* For the same bytes with the heap measured: another MRENCLAVE. */
	image_init(other);
	other->seg[3].measure = true;
	p = sgx_stage_params(&other->layout);
	sign(&p, ss);
	free(other);
	buf = sgx_stage_image(f->enclave, sizeof(f->enclave), SGX_STAGE_LAYOUT_JSON, ss, &len);
	refuse(buf, len, EBCC_ERR_VERIFY, "img: sigstruct: SIGSTRUCT: ENCLAVEHASH ");
	free(buf);
	memcpy(ss, f->ss, sizeof(ss));
	ss[EBCC_SGX_SS_SIGNATURE] ^= 1;
	buf = sgx_stage_image(f->enclave, sizeof(f->enclave), SGX_STAGE_LAYOUT_JSON, ss, &len);
	refuse(buf, len, EBCC_ERR_VERIFY, "img: sigstruct: SIGSTRUCT: the signature does not "
	       "verify");
	free(buf);
	memcpy(ss, f->ss, sizeof(ss));
	ss[EBCC_SGX_SS_ISVSVN] ^= 1;
	buf = sgx_stage_image(f->enclave, sizeof(f->enclave), SGX_STAGE_LAYOUT_JSON, ss, &len);
	refuse(buf, len, EBCC_ERR_VERIFY, "img: sigstruct: SIGSTRUCT: the signature does not "
	       "verify");
	free(buf);
}

/* ---- from a descriptor ------------------------------------------------------------------ */

static void reads_from_a_descriptor(void **state)
{
	char *dir = scratch_dir("sgx-image"), *path, want[EBCC_SGX_MEASUREMENT_SIZE];
	char got[EBCC_SGX_MEASUREMENT_SIZE];
	struct ebcc__sgx_image im;
	struct stat st;
	int fd;

	(void)state;
	assert_true(asprintf(&path, "%s/stage.tar", dir) > 0);
	sgx_stage_test_image_write(path, f->key);
	measurement_of(&f->im->layout, want);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	/* From the start, wherever the descriptor is. */
	assert_int_equal(lseek(fd, 1000, SEEK_SET), 1000);
	assert_int_equal(ebcc__sgx_image_read(fd, path, &im), 0);
	assert_non_null(im.data);
	assert_int_equal(im.len, st.st_size);
	assert_ptr_equal(im.enclave, im.data + SGX_STAGE_BLOCK);
	assert_string_equal(im.measurement, want);
	ebcc__sgx_image_clear(&im);
	assert_null(im.data);
	assert_null(im.segments);
	assert_int_equal(ebcc__sgx_image_measure_fd(fd, path, got, sizeof(got)), 0);
	assert_string_equal(got, want);
	close(fd);

	/* A bad image from a descriptor: refused, nothing kept. */
	write_file(dir, "stage.tar", "not an image", 12);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	memset(&im, 0x5a, sizeof(im));
	assert_int_equal(ebcc__sgx_image_read(fd, path, &im), EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "stage.tar: no member enclave.bin"));
	assert_null(im.data);
	assert_null(im.segments);
	assert_int_equal(ebcc__sgx_image_measure_fd(fd, path, got, sizeof(got)),
			 EBCC_ERR_INVALID_ARG);
	close(fd);
	free(path);
	scratch_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_the_standard_image),
		cmocka_unit_test(parses_what_tar_writes),
		cmocka_unit_test(entry_tcs_and_secs_from_the_sigstruct),
		cmocka_unit_test(refuses_other_members),
		cmocka_unit_test(refuses_bad_layouts),
		cmocka_unit_test(refuses_sigstructs_that_do_not_verify),
		cmocka_unit_test(reads_from_a_descriptor),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
