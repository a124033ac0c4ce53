/* SPDX-License-Identifier: MIT */
/* A keystone stage image: a ustar archive of loader, runtime and eapp (image.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebcc-base.h"
#include "image.h"

#define BLOCK 512
#define ERR EBCC_ERR_INVALID_ARG

const char *const ebcc__ks_image_names[EBCC_KS_FILES] = {
	[EBCC_KS_FILE_LOADER] = "loader.bin",
	[EBCC_KS_FILE_RUNTIME] = "eyrie-rt",
	[EBCC_KS_FILE_EAPP] = "eapp",
};

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* An octal header field: digits, then NULs or spaces to its end (at least one digit). */
static int octal(const uint8_t *field, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0, digits = 0;

	while (i < n && field[i] == ' ')
		i++;
	for (; i < n && field[i] >= '0' && field[i] <= '7'; i++, digits++) {
		if (v > (UINT64_MAX >> 3))
			return -1;
		v = (v << 3) | (uint64_t)(field[i] - '0');
	}
	for (; i < n; i++)
		if (field[i] != '\0' && field[i] != ' ')
			return -1;
	if (digits == 0)
		return -1;
	*ret = v;
	return 0;
}

/* The header's checksum: every byte summed, the checksum field counted as spaces. */
static bool checksum_ok(const uint8_t *h)
{
	uint64_t want, sum = 0;

	if (octal(h + 148, 8, &want) < 0)
		return false;
	for (size_t i = 0; i < BLOCK; i++)
		sum += i >= 148 && i < 156 ? ' ' : h[i];
	return sum == want;
}

/* Which of the three files a header names (its name field NUL-terminated, no prefix). */
static int member_of(const uint8_t *h, char name[101])
{
	memcpy(name, h, 100);
	name[100] = '\0';
	for (size_t i = strlen(name); i < 100; i++)
		if (h[i] != '\0')
			return -1;
	for (int i = 0; i < EBCC_KS_FILES; i++)
		if (strcmp(name, ebcc__ks_image_names[i]) == 0)
			return i;
	return -1;
}

/* A printable copy of a member name for messages. */
static void printable(const char *name, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; name[i] != '\0' && o + 5 < size; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

static int check_header(const uint8_t *h, size_t at, const char *display, int *ret_which,
			uint64_t *ret_size)
{
	char name[101], shown[420];
	int which = member_of(h, name);
	uint64_t size;

	printable(name, shown, sizeof(shown));
	if (memcmp(h + 257, "ustar\0" "00", 8) != 0 && memcmp(h + 257, "ustar  \0", 8) != 0)
		return ebcc__error(ERR, "%s: the header at byte %zu is not a ustar header (a keystone "
				   "stage image is `tar --format=ustar -cf IMAGE loader.bin eyrie-rt "
				   "eapp`)", display, at);
	if (!checksum_ok(h))
		return ebcc__error(ERR, "%s: the header of member \"%s\" at byte %zu has a wrong "
				   "checksum", display, shown, at);
	if (h[156] != '0' && h[156] != '\0')
		return ebcc__error(ERR, "%s: member \"%s\" at byte %zu is of tar type '%c', not a "
				   "regular file (no directories, links, or pax and GNU extension "
				   "headers)", display, shown, at, h[156] >= 0x20 && h[156] < 0x7f ?
				   h[156] : '?');
	if (!all_zero(h + 345, 155))
		return ebcc__error(ERR, "%s: member at byte %zu has a ustar prefix; its name must be "
				   "one of loader.bin, eyrie-rt, eapp", display, at);
	if (which < 0)
		return ebcc__error(ERR, "%s: member \"%s\" at byte %zu is not one of loader.bin, "
				   "eyrie-rt, eapp", display, shown, at);
	if (octal(h + 124, 12, &size) < 0)
		return ebcc__error(ERR, "%s: member %s has an unreadable size field", display, name);
	if (size == 0)
		return ebcc__error(ERR, "%s: member %s is empty", display, name);
	*ret_which = which;
	*ret_size = size;
	return 0;
}

int ebcc__ks_image_parse(const uint8_t *buf, size_t len, const char *display,
			 struct ebcc__ks_image *ret)
{
	size_t at = 0;
	int seen = 0, r;
	uint8_t hash[EBCC_KS_MDSIZE];

	for (int n = 0; n < EBCC_KS_FILES; n++) {
		uint64_t size = 0;
		int which = 0;

		if (len - at < BLOCK || all_zero(buf + at, BLOCK))
			break;
		r = check_header(buf + at, at, display, &which, &size);
		if (r < 0)
			return r;
		if (seen & (1 << which))
			return ebcc__error(ERR, "%s: member %s appears twice", display,
					   ebcc__ks_image_names[which]);
		if (size > len - at - BLOCK)
			return ebcc__error(ERR, "%s: member %s is %" PRIu64 " bytes, past the end of "
					   "the %zu-byte image", display, ebcc__ks_image_names[which],
					   size, len);
		seen |= 1 << which;
		ret->files[which] = buf + at + BLOCK;
		ret->lens[which] = (size_t)size;
		at += BLOCK + (((size_t)size + BLOCK - 1) & ~(size_t)(BLOCK - 1));
		if (at > len)
			at = len; /* the last member's padding cut short: tolerated, nothing follows */
	}
	for (int i = 0; i < EBCC_KS_FILES; i++)
		if (!(seen & (1 << i)))
			return ebcc__error(ERR, "%s: no member %s (a keystone stage image holds "
					   "loader.bin, eyrie-rt and eapp)", display,
					   ebcc__ks_image_names[i]);
	if (!all_zero(buf + at, len - at))
		return ebcc__error(ERR, "%s: more than loader.bin, eyrie-rt and eapp: non-zero bytes "
				   "at byte %zu after the third member", display, at);
	r = ebcc__ks_measure(ret->files, ret->lens, hash);
	if (r < 0)
		return r;
	memcpy(ret->measurement, "keystone:", 9);
	ebcc__hex_encode(hash, sizeof(hash), ret->measurement + 9);
	return 0;
}

int ebcc__ks_image_read(int fd, const char *display, struct ebcc__ks_image *ret)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	*ret = (struct ebcc__ks_image){ 0 };
	if (lseek(fd, 0, SEEK_SET) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "seek %s", display);
	r = ebcc__read_all(fd, EBCC_STAGE_IMAGE_MAX, display, &data, &len);
	if (r < 0)
		return r;
	ret->data = (uint8_t *)data;
	ret->len = len;
	r = ebcc__ks_image_parse(ret->data, len, display, ret);
	if (r < 0)
		ebcc__ks_image_clear(ret);
	return r;
}

void ebcc__ks_image_clear(struct ebcc__ks_image *im)
{
	free(im->data);
	*im = (struct ebcc__ks_image){ 0 };
}

int ebcc__ks_image_measure_fd(int fd, const char *display, char *out, size_t out_size)
{
	struct ebcc__ks_image im;
	int r = ebcc__ks_image_read(fd, display, &im);

	if (r < 0)
		return r;
	snprintf(out, out_size, "%s", im.measurement);
	ebcc__ks_image_clear(&im);
	return 0;
}
