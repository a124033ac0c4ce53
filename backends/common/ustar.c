/* SPDX-License-Identifier: MIT */
/* Stage images as strict ustar archives of named files (ustar.h). */
#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ebcc-base.h"
#include "ustar.h"

#define BLOCK 512
#define ERR EBCC_ERR_INVALID_ARG
/* Room for EBCC_USTAR_MEMBERS_MAX names of 100 bytes and their separators. */
#define LIST_SIZE 1024

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* The member names for messages: "a, b, c" or "a, b and c" (last separator last). */
static const char *join(const struct ebcc__ustar_members *m, const char *sep, const char *last,
			char out[LIST_SIZE])
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < m->n && o < LIST_SIZE; i++)
		o += (size_t)snprintf(out + o, LIST_SIZE - o, "%s%s",
				      i == 0 ? "" : i + 1 < m->n ? sep : last, m->names[i]);
	return out;
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

/* Which member a header names (its name field NUL-terminated, no prefix), or -1. */
static int member_of(const uint8_t *h, const struct ebcc__ustar_members *m, char name[101])
{
	memcpy(name, h, 100);
	name[100] = '\0';
	for (size_t i = strlen(name); i < 100; i++)
		if (h[i] != '\0')
			return -1;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(name, m->names[i]) == 0)
			return (int)i;
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

static int check_header(const uint8_t *h, size_t at, const char *display,
			const struct ebcc__ustar_members *m, int *ret_which, uint64_t *ret_size)
{
	char name[101], shown[420], list[LIST_SIZE];
	int which = member_of(h, m, name);
	uint64_t size;

	printable(name, shown, sizeof(shown));
	if (memcmp(h + 257, "ustar\0" "00", 8) != 0 && memcmp(h + 257, "ustar  \0", 8) != 0)
		return ebcc__error(ERR, "%s: the header at byte %zu is not a ustar header (%s is "
				   "`tar --format=ustar -cf IMAGE %s`)", display, at, m->what,
				   join(m, " ", " ", list));
	if (!checksum_ok(h))
		return ebcc__error(ERR, "%s: the header of member \"%s\" at byte %zu has a wrong "
				   "checksum", display, shown, at);
	if (h[156] != '0' && h[156] != '\0')
		return ebcc__error(ERR, "%s: member \"%s\" at byte %zu is of tar type '%c', not a "
				   "regular file (no directories, links, or pax and GNU extension "
				   "headers)", display, shown, at, h[156] >= 0x20 && h[156] < 0x7f ?
				   h[156] : '?');
	if (!all_zero(h + 345, 155))
		return ebcc__error(ERR, "%s: member at byte %zu has a ustar prefix; its name must "
				   "be one of %s", display, at, join(m, ", ", ", ", list));
	if (which < 0)
		return ebcc__error(ERR, "%s: member \"%s\" at byte %zu is not one of %s", display,
				   shown, at, join(m, ", ", ", ", list));
	if (octal(h + 124, 12, &size) < 0)
		return ebcc__error(ERR, "%s: member %s has an unreadable size field", display,
				   name);
	if (size == 0)
		return ebcc__error(ERR, "%s: member %s is empty", display, name);
	*ret_which = which;
	*ret_size = size;
	return 0;
}

int ebcc__ustar_split(const uint8_t *buf, size_t len, const char *display,
		      const struct ebcc__ustar_members *m, const uint8_t **ret_files,
		      size_t *ret_lens)
{
	char list[LIST_SIZE];
	unsigned seen = 0;
	size_t at = 0;

	assert(m->n > 0 && m->n <= EBCC_USTAR_MEMBERS_MAX);
	for (size_t k = 0; k < m->n; k++) {
		uint64_t size = 0;
		int which = 0, r;

		if (len - at < BLOCK || all_zero(buf + at, BLOCK))
			break;
		r = check_header(buf + at, at, display, m, &which, &size);
		if (r < 0)
			return r;
		if (seen & (1u << which))
			return ebcc__error(ERR, "%s: member %s appears twice", display,
					   m->names[which]);
		if (size > len - at - BLOCK)
			return ebcc__error(ERR, "%s: member %s is %" PRIu64 " bytes, past the end "
					   "of the %zu-byte image", display, m->names[which], size,
					   len);
		seen |= 1u << which;
		ret_files[which] = buf + at + BLOCK;
		ret_lens[which] = (size_t)size;
		at += BLOCK + (((size_t)size + BLOCK - 1) & ~(size_t)(BLOCK - 1));
		/* The last member's padding cut short: tolerated, nothing follows. */
		if (at > len)
			at = len;
	}
	for (size_t i = 0; i < m->n; i++)
		if (!(seen & (1u << i)))
			return ebcc__error(ERR, "%s: no member %s (%s holds %s)", display,
					   m->names[i], m->what, join(m, ", ", " and ", list));
	if (!all_zero(buf + at, len - at))
		return ebcc__error(ERR, "%s: more than %s: non-zero bytes at byte %zu after the "
				   "last member", display, join(m, ", ", " and ", list), at);
	return 0;
}
