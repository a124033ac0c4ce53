/* SPDX-License-Identifier: MIT */
/* A keystone stage image: a ustar archive of loader, runtime and eapp (image.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebcc-base.h"
#include "image.h"
#include "ustar.h"

const char *const ebcc__ks_image_names[EBCC_KS_FILES] = {
	[EBCC_KS_FILE_LOADER] = "loader.bin",
	[EBCC_KS_FILE_RUNTIME] = "eyrie-rt",
	[EBCC_KS_FILE_EAPP] = "eapp",
};

int ebcc__ks_image_parse(const uint8_t *buf, size_t len, const char *display,
			 struct ebcc__ks_image *ret)
{
	static const struct ebcc__ustar_members members = {
		"a keystone stage image", ebcc__ks_image_names, EBCC_KS_FILES
	};
	uint8_t hash[EBCC_KS_MDSIZE];
	int r = ebcc__ustar_split(buf, len, display, &members, ret->files, ret->lens);

	if (r == 0)
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
