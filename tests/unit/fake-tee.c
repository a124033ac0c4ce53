/* SPDX-License-Identifier: MIT */
/* A fake /dev/tee0 with an echo TA and OP-TEE's attestation PTA, for tests (see fake-tee.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/tee.h>
#include <openssl/evp.h>

#include <ebcc/stage.h>

#include "../../backends/common/bytes.h"
#include "../../backends/optee/teec.h"
#include "fake-pki.h"
#include "fake-tee.h"

#define FAKE_FD_BASE (1 << 20)
#define MAX_CTX 16
#define MAX_SESSIONS 64
#define MAX_SHM 64
#define MAX_TAS 8
#define PTA_GET_PUBKEY 0
#define PTA_GET_TA_SHDR_DIGEST 1
#define PTA_HASH_TA_MEMORY 2
#define ALG_RSASSA_PKCS1_PSS_MGF1_SHA256 0x70414930u
#define PT(a, b, c, d) ((a) | (b) << 8 | (c) << 16 | (d) << 24)
#define P_NONE TEE_IOCTL_PARAM_ATTR_TYPE_NONE
#define P_VOUT TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_OUTPUT
#define P_MIN TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INPUT
#define P_MOUT TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT

static const uint8_t pta_uuid[16] = { 0x39, 0x80, 0x08, 0x61, 0x18, 0x2a, 0x47, 0x20,
				      0x9b, 0x67, 0x2b, 0xcd, 0x62, 0x2b, 0xc0, 0xb5 };

struct ta {
	bool used;
	uint8_t uuid[16];
	uint8_t digest[32];
};

struct session {
	bool used;
	uint32_t id;
	int ctx;
	int ta; /* -1: the attestation PTA */
	bool dead;
};

struct shm {
	bool used;
	int id;
	int ctx;
	int fd; /* a real memfd: the backend maps it */
	size_t size;
	uint8_t *map;
};

/* One parameter as a TA sees it. */
struct tparam {
	uint32_t type;
	uint8_t *buf; /* memref */
	uint64_t size;
	uint64_t a, b, c; /* value */
};

struct fake_tee {
	struct ebcc__hostops ops;
	struct fake_tee_faults faults;
	bool ctx_used[MAX_CTX];
	struct session sessions[MAX_SESSIONS];
	struct shm shms[MAX_SHM];
	struct ta tas[MAX_TAS];
	uint32_t next_session;
	int next_shm;
	unsigned no_cloexec;
	EVP_PKEY *key;
	char *pubkey_pem;
};

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n > 0 ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

static void sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c, a, alen) != 1 || (blen > 0 && EVP_DigestUpdate(c, b, blen) != 1) ||
	    EVP_DigestFinal_ex(c, out, NULL) != 1)
		abort();
	EVP_MD_CTX_free(c);
}

void fake_tee_memory_hash(const uint8_t uuid[16], uint8_t out[32])
{
	sha256("fake TA memory", 14, uuid, 16, out);
}

size_t fake_tee_ta_file(const uint8_t uuid[16], const char *payload, uint8_t **ret,
			uint8_t digest[32])
{
	size_t elf = strlen(payload), len = 20 + 32 + 256 + 20 + elf;
	uint8_t *p = xmalloc(len), *hashed = xmalloc(20 + 20 + elf);

	ebcc__put_le32(p, 0x4f545348);      /* SHDR_MAGIC */
	ebcc__put_le32(p + 4, 1);           /* SHDR_BOOTSTRAP_TA */
	ebcc__put_le32(p + 8, (uint32_t)elf);
	ebcc__put_le32(p + 12, 0x70414930); /* TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256 */
	ebcc__put_le16(p + 16, 32);
	ebcc__put_le16(p + 18, 256);
	memcpy(p + 20 + 32 + 256, uuid, 16);
	ebcc__put_le32(p + 20 + 32 + 256 + 16, 0);
	memcpy(p + 20 + 32 + 256 + 20, payload, elf);
	/* The hash covers the header, the bootstrap header and the image. */
	memcpy(hashed, p, 20);
	memcpy(hashed + 20, p + 20 + 32 + 256, 20 + elf);
	sha256(hashed, 20 + 20 + elf, NULL, 0, digest);
	memcpy(p + 20, digest, 32);
	memset(p + 20 + 32, 0x5a, 256); /* the signature OP-TEE would check on loading */
	free(hashed);
	*ret = p;
	return len;
}

/* ---- the attestation PTA --------------------------------------------------------------------- */

static size_t modulus_bytes(struct fake_tee *t)
{
	return (size_t)EVP_PKEY_get_size(t->key);
}

/* out = hash || RSASSA-PSS(SHA-256(nonce || hash)) into the output memref. */
static uint32_t sign_buffer(struct fake_tee *t, const uint8_t hash[32], const struct tparam *nonce,
			    struct tparam *out)
{
	size_t need = 32 + modulus_bytes(t);
	uint8_t *msg, *sig;
	size_t sig_len;

	if (nonce->size == 0 || nonce->buf == NULL)
		return TEEC_ERROR_BAD_PARAMETERS;
	if (out->size < need) {
		out->size = need;
		return TEEC_ERROR_SHORT_BUFFER;
	}
	msg = xmalloc(nonce->size + 32);
	memcpy(msg, nonce->buf, nonce->size);
	memcpy(msg + nonce->size, hash, 32);
	sig_len = fake_pki_rsa_pss_sign(t->key, msg, nonce->size + 32, &sig);
	memcpy(out->buf, hash, 32);
	memcpy(out->buf + 32, sig, sig_len);
	out->size = need;
	free(msg);
	free(sig);
	return TEEC_SUCCESS;
}

static int ta_find(struct fake_tee *t, const uint8_t uuid[16])
{
	for (int i = 0; i < MAX_TAS; i++)
		if (t->tas[i].used && memcmp(t->tas[i].uuid, uuid, 16) == 0)
			return i;
	return -1;
}

/* caller_ta: the TA that called (>= 0) or -1 for the normal world. */
static uint32_t pta_invoke(struct fake_tee *t, uint32_t cmd, uint32_t types, struct tparam *p,
			   int caller_ta)
{
	switch (cmd) {
	case PTA_GET_PUBKEY: {
		uint8_t *e, *n;
		size_t e_len, n_len;
		uint32_t res = TEEC_SUCCESS;

		if (types != PT(P_MOUT, P_MOUT, P_VOUT, P_NONE))
			return TEEC_ERROR_BAD_PARAMETERS;
		fake_pki_rsa_public(t->key, &e, &e_len, &n, &n_len);
		if (p[0].size >= e_len)
			memcpy(p[0].buf, e, e_len);
		else
			res = TEEC_ERROR_SHORT_BUFFER;
		p[0].size = e_len;
		if (p[1].size >= n_len)
			memcpy(p[1].buf, n, n_len);
		else
			res = TEEC_ERROR_SHORT_BUFFER;
		p[1].size = n_len;
		p[2].a = ALG_RSASSA_PKCS1_PSS_MGF1_SHA256;
		free(e);
		free(n);
		return res;
	}
	case PTA_GET_TA_SHDR_DIGEST: {
		uint8_t rfc[16];
		int ta;

		if (types != PT(P_MIN, P_MIN, P_MOUT, P_NONE) || p[0].size != 16)
			return TEEC_ERROR_BAD_PARAMETERS;
		/* TEE_UUID in memory: little-endian time fields on this CPU. */
		ebcc__put_le32(rfc, __builtin_bswap32(ebcc__le32(p[0].buf)));
		rfc[4] = p[0].buf[5];
		rfc[5] = p[0].buf[4];
		rfc[6] = p[0].buf[7];
		rfc[7] = p[0].buf[6];
		memcpy(rfc + 8, p[0].buf + 8, 8);
		ta = ta_find(t, rfc);
		if (ta < 0)
			return TEEC_ERROR_ITEM_NOT_FOUND;
		return sign_buffer(t, t->tas[ta].digest, &p[1], &p[2]);
	}
	case PTA_HASH_TA_MEMORY: {
		uint8_t hash[32];

		if (types != PT(P_MIN, P_MOUT, P_NONE, P_NONE))
			return TEEC_ERROR_BAD_PARAMETERS;
		if (caller_ta < 0)
			return TEEC_ERROR_ACCESS_DENIED; /* "Caller is not a user space TA" */
		fake_tee_memory_hash(t->tas[caller_ta].uuid, hash);
		return sign_buffer(t, hash, &p[0], &p[1]);
	}
	default:
		return TEEC_ERROR_BAD_PARAMETERS;
	}
}

/* ---- the echo TA ----------------------------------------------------------------------------- */

/* A TA built with libebcc-stage's binding: it echoes, binds request and response with
 * ebcc_stage_report_data() and has HASH_TA_MEMORY sign that report_data, all in one
 * invocation (request in, response out, BIND in, report_data || the PTA's output out). */
static uint32_t ta_bind(struct fake_tee *t, struct session *s, uint32_t types, struct tparam *p)
{
	struct tparam pta[2];
	uint32_t r;

	if (types != PT(P_MIN, P_MOUT, P_MIN, P_MOUT))
		return TEEC_ERROR_BAD_PARAMETERS;
	if (p[1].size < p[0].size || p[3].size < 64) {
		p[1].size = p[0].size;
		p[3].size = 64 + 32 + 256;
		return TEEC_ERROR_SHORT_BUFFER;
	}
	memcpy(p[1].buf, p[0].buf, (size_t)p[0].size);
	p[1].size = p[0].size;
	if (ebcc_stage_report_data(p[2].buf, (size_t)p[2].size, p[0].buf, (size_t)p[0].size,
				   p[1].buf, (size_t)p[1].size, p[3].buf) != 0)
		return TEEC_ERROR_BAD_PARAMETERS;
	pta[0] = (struct tparam){ .type = P_MIN, .buf = p[3].buf, .size = 64 };
	pta[1] = (struct tparam){ .type = P_MOUT, .buf = p[3].buf + 64, .size = p[3].size - 64 };
	r = pta_invoke(t, PTA_HASH_TA_MEMORY, PT(P_MIN, P_MOUT, P_NONE, P_NONE), pta, s->ta);
	p[3].size = 64 + pta[1].size;
	return r;
}

static uint32_t ta_invoke(struct fake_tee *t, struct session *s, uint32_t cmd, uint32_t types,
			  struct tparam *p, uint32_t *origin)
{
	const char *in;
	size_t n;

	*origin = TEEC_ORIGIN_TRUSTED_APP;
	if (cmd == FAKE_TEE_CMD_BIND)
		return ta_bind(t, s, types, p);
	if (types != PT(P_MIN, P_MOUT, P_NONE, P_NONE))
		return TEEC_ERROR_BAD_PARAMETERS;
	if (cmd == FAKE_TEE_CMD_ATTEST) {
		uint32_t r = pta_invoke(t, PTA_HASH_TA_MEMORY, PT(P_MIN, P_MOUT, P_NONE, P_NONE), p,
					s->ta);

		return r;
	}
	if (cmd != FAKE_TEE_CMD_ECHO)
		return TEEC_ERROR_NOT_SUPPORTED;
	in = (const char *)p[0].buf;
	n = (size_t)p[0].size;
	if (n == 5 && memcmp(in, "panic", 5) == 0) {
		s->dead = true;
		*origin = TEEC_ORIGIN_TEE;
		return TEEC_ERROR_TARGET_DEAD;
	}
	if (n == 4 && memcmp(in, "busy", 4) == 0) {
		*origin = TEEC_ORIGIN_TEE;
		return TEEC_ERROR_BUSY;
	}
	if (n == 4 && memcmp(in, "fail", 4) == 0)
		return TEEC_ERROR_BAD_PARAMETERS;
	if (n > 5 && n < 32 && memcmp(in, "grow:", 5) == 0) {
		char num[32];
		size_t want;

		memcpy(num, in + 5, n - 5);
		num[n - 5] = '\0';
		want = strtoul(num, NULL, 10);
		if (p[1].size < want) {
			p[1].size = want;
			return TEEC_ERROR_SHORT_BUFFER;
		}
		memset(p[1].buf, 'x', want);
		p[1].size = want;
		return TEEC_SUCCESS;
	}
	if (p[1].size < n) {
		p[1].size = n;
		return TEEC_ERROR_SHORT_BUFFER;
	}
	memcpy(p[1].buf, in, n);
	p[1].size = n;
	return TEEC_SUCCESS;
}

/* ---- the kernel's side: descriptors and ioctls --------------------------------------------- */

static int ctx_of(struct fake_tee *t, int fd)
{
	int i = fd - FAKE_FD_BASE;

	return i >= 0 && i < MAX_CTX && t->ctx_used[i] ? i : -1;
}

static struct shm *shm_by_fd(struct fake_tee *t, int fd)
{
	for (int i = 0; i < MAX_SHM; i++)
		if (t->shms[i].used && t->shms[i].fd == fd)
			return &t->shms[i];
	return NULL;
}

static struct shm *shm_by_id(struct fake_tee *t, int ctx, uint64_t id)
{
	for (int i = 0; i < MAX_SHM; i++)
		if (t->shms[i].used && t->shms[i].ctx == ctx && (uint64_t)t->shms[i].id == id)
			return &t->shms[i];
	return NULL;
}

static struct session *session_of(struct fake_tee *t, int ctx, uint32_t id)
{
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (t->sessions[i].used && t->sessions[i].ctx == ctx && t->sessions[i].id == id)
			return &t->sessions[i];
	return NULL;
}

static int shm_alloc(struct fake_tee *t, int ctx, struct tee_ioctl_shm_alloc_data *d)
{
	struct shm *s = NULL;
	int fd;

	if (d->flags != 0 || d->size == 0 || d->size > (1u << 24))
		return -EINVAL;
	if (t->faults.shm_errno != 0)
		return -t->faults.shm_errno;
	for (int i = 0; i < MAX_SHM && s == NULL; i++)
		if (!t->shms[i].used)
			s = &t->shms[i];
	if (s == NULL)
		return -ENOMEM;
	fd = memfd_create("fake-tee-shm", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)d->size) < 0)
		abort();
	*s = (struct shm){ .used = true, .id = ++t->next_shm, .ctx = ctx, .fd = fd,
			   .size = (size_t)d->size };
	s->map = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->map == MAP_FAILED)
		abort();
	d->id = s->id;
	return fd;
}

/* The parameters as the TEE gets them: EINVAL for what the tee core refuses. */
static int params_in(struct fake_tee *t, int ctx, const struct tee_ioctl_param *ip, uint32_t n,
		     struct tparam *tp, uint32_t *types)
{
	*types = 0;
	memset(tp, 0, 4 * sizeof(*tp));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t type = (uint32_t)(ip[i].attr & TEE_IOCTL_PARAM_ATTR_TYPE_MASK);
		struct shm *s;

		if (ip[i].attr & ~(uint64_t)TEE_IOCTL_PARAM_ATTR_TYPE_MASK)
			return -EINVAL;
		tp[i].type = type;
		*types |= type << (8 * i);
		switch (type) {
		case TEE_IOCTL_PARAM_ATTR_TYPE_NONE:
			break;
		case TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INPUT:
		case TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_OUTPUT:
		case TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_INOUT:
			tp[i].a = ip[i].a;
			tp[i].b = ip[i].b;
			tp[i].c = ip[i].c;
			break;
		case TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INPUT:
		case TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT:
		case TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INOUT:
			s = shm_by_id(t, ctx, ip[i].c);
			if (s == NULL || ip[i].a > s->size || ip[i].b > s->size - ip[i].a)
				return -EINVAL;
			tp[i].buf = s->map + ip[i].a;
			tp[i].size = ip[i].b;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static void params_out(const struct tparam *tp, struct tee_ioctl_param *ip, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (tp[i].type >= TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INPUT)
			ip[i].b = tp[i].size;
		else if (tp[i].type != TEE_IOCTL_PARAM_ATTR_TYPE_NONE) {
			ip[i].a = tp[i].a;
			ip[i].b = tp[i].b;
			ip[i].c = tp[i].c;
		}
	}
}

/* The header of TEE_IOC_OPEN_SESSION / TEE_IOC_INVOKE with its parameters, as the tee core
 * checks it: NULL with *err set when the buffer is not exactly that. */
static void *arg_buffer(const struct tee_ioctl_buf_data *b, size_t header, size_t num_params_off,
			struct tee_ioctl_param **ret_params, uint32_t *ret_n, int *err)
{
	uint8_t *p = (uint8_t *)(uintptr_t)b->buf_ptr;
	uint32_t n;

	*err = -EINVAL;
	if (b->buf_len > TEE_MAX_ARG_SIZE || b->buf_len < header)
		return NULL;
	memcpy(&n, p + num_params_off, sizeof(n));
	if (header + (size_t)n * sizeof(struct tee_ioctl_param) != b->buf_len)
		return NULL;
	*ret_params = (struct tee_ioctl_param *)(p + header);
	*ret_n = n;
	*err = 0;
	return p;
}

static int open_session(struct fake_tee *t, int ctx, struct tee_ioctl_buf_data *b)
{
	struct tee_ioctl_open_session_arg *arg;
	struct tee_ioctl_param *ip;
	struct session *s = NULL;
	uint32_t n;
	int err, ta = -2;

	arg = arg_buffer(b, sizeof(*arg), offsetof(struct tee_ioctl_open_session_arg, num_params),
			 &ip, &n, &err);
	if (arg == NULL)
		return err;
	if (n > 4 || arg->clnt_login != TEE_IOCTL_LOGIN_PUBLIC)
		return -EINVAL;
	arg->ret_origin = TEEC_ORIGIN_TEE;
	if (memcmp(arg->uuid, pta_uuid, 16) == 0 && !t->faults.no_pta)
		ta = -1;
	else if (ta_find(t, arg->uuid) >= 0)
		ta = ta_find(t, arg->uuid);
	if (ta == -2) {
		arg->ret = TEEC_ERROR_ITEM_NOT_FOUND;
		return 0;
	}
	if (ta >= 0 && t->faults.busy_open) {
		arg->ret = TEEC_ERROR_BUSY;
		return 0;
	}
	for (int i = 0; i < MAX_SESSIONS && s == NULL; i++)
		if (!t->sessions[i].used)
			s = &t->sessions[i];
	if (s == NULL) {
		arg->ret = TEEC_ERROR_OUT_OF_MEMORY;
		return 0;
	}
	*s = (struct session){ .used = true, .id = ++t->next_session, .ctx = ctx, .ta = ta };
	arg->session = s->id;
	arg->ret = TEEC_SUCCESS;
	return 0;
}

static int invoke(struct fake_tee *t, int ctx, struct tee_ioctl_buf_data *b)
{
	struct tee_ioctl_invoke_arg *arg;
	struct tee_ioctl_param *ip;
	struct tparam tp[4];
	struct session *s;
	uint32_t n, types, origin = TEEC_ORIGIN_TRUSTED_APP;
	int err;

	arg = arg_buffer(b, sizeof(*arg), offsetof(struct tee_ioctl_invoke_arg, num_params), &ip,
			 &n, &err);
	if (arg == NULL)
		return err;
	if (n > 4)
		return -EINVAL;
	s = session_of(t, ctx, arg->session);
	if (s == NULL)
		return -EINVAL;
	err = params_in(t, ctx, ip, n, tp, &types);
	if (err < 0)
		return err;
	if (s->dead) {
		arg->ret = TEEC_ERROR_TARGET_DEAD;
		arg->ret_origin = TEEC_ORIGIN_TEE;
		return 0;
	}
	if (s->ta < 0)
		arg->ret = pta_invoke(t, arg->func, types, tp, -1);
	else
		arg->ret = ta_invoke(t, s, arg->func, types, tp, &origin);
	arg->ret_origin = origin;
	params_out(tp, ip, n);
	return 0;
}

static int f_ioctl(int fd, unsigned long request, void *argp, void *userdata)
{
	struct fake_tee *t = userdata;
	int ctx = ctx_of(t, fd);

	if (ctx < 0)
		return shm_by_fd(t, fd) != NULL ? -ENOTTY : -EBADF;
	switch (request) {
	case TEE_IOC_VERSION: {
		struct tee_ioctl_version_data *v = argp;

		v->impl_id = t->faults.impl_id != 0 ? t->faults.impl_id : TEE_IMPL_ID_OPTEE;
		v->impl_caps = TEE_OPTEE_CAP_TZ;
		v->gen_caps = TEE_GEN_CAP_GP | TEE_GEN_CAP_REG_MEM | TEE_GEN_CAP_MEMREF_NULL;
		return 0;
	}
	case TEE_IOC_SHM_ALLOC:
		return shm_alloc(t, ctx, argp);
	case TEE_IOC_OPEN_SESSION:
		return open_session(t, ctx, argp);
	case TEE_IOC_INVOKE:
		return invoke(t, ctx, argp);
	case TEE_IOC_CLOSE_SESSION: {
		struct tee_ioctl_close_session_arg *a = argp;
		struct session *s = session_of(t, ctx, a->session);

		if (s == NULL)
			return -EINVAL;
		memset(s, 0, sizeof(*s));
		return 0;
	}
	default:
		return -ENOTTY;
	}
}

static int f_open(const char *path, int flags, mode_t mode, void *userdata)
{
	struct fake_tee *t = userdata;

	(void)mode;
	if (!(flags & O_CLOEXEC))
		t->no_cloexec++;
	if (strcmp(path, "/dev/tee0") != 0 || t->faults.no_device)
		return -ENOENT;
	if (t->faults.open_errno != 0)
		return -t->faults.open_errno;
	if ((flags & O_ACCMODE) != O_RDWR)
		return -EINVAL;
	for (int i = 0; i < MAX_CTX; i++) {
		if (!t->ctx_used[i]) {
			t->ctx_used[i] = true;
			return FAKE_FD_BASE + i;
		}
	}
	return -EMFILE;
}

static int f_openat(int dir_fd, const char *name, int flags, mode_t mode, void *userdata)
{
	(void)dir_fd;
	(void)name;
	(void)flags;
	(void)mode;
	(void)userdata;
	return -ENOTDIR;
}

static int f_close(int fd, void *userdata)
{
	struct fake_tee *t = userdata;
	int ctx = ctx_of(t, fd);
	struct shm *s;

	if (ctx >= 0) {
		/* Releasing the context closes its sessions and frees its shared memory. */
		for (int i = 0; i < MAX_SESSIONS; i++)
			if (t->sessions[i].used && t->sessions[i].ctx == ctx)
				memset(&t->sessions[i], 0, sizeof(t->sessions[i]));
		t->ctx_used[ctx] = false;
		return 0;
	}
	s = shm_by_fd(t, fd);
	if (s == NULL)
		return -EBADF;
	munmap(s->map, s->size);
	close(s->fd);
	memset(s, 0, sizeof(*s));
	return 0;
}

static ssize_t f_read(int fd, void *buf, size_t len, void *userdata)
{
	(void)buf;
	(void)len;
	return ctx_of(userdata, fd) >= 0 ? -EINVAL : -EBADF;
}

static ssize_t f_pread(int fd, void *buf, size_t len, off_t off, void *userdata)
{
	(void)off;
	return f_read(fd, buf, len, userdata);
}

static ssize_t f_write(int fd, const void *buf, size_t len, void *userdata)
{
	(void)buf;
	(void)len;
	return ctx_of(userdata, fd) >= 0 ? -EINVAL : -EBADF;
}

static int f_mkdir(const char *path, mode_t mode, void *userdata)
{
	(void)path;
	(void)mode;
	(void)userdata;
	return -EROFS;
}

static int f_mkdirat(int dir_fd, const char *name, mode_t mode, void *userdata)
{
	(void)dir_fd;
	(void)name;
	(void)mode;
	(void)userdata;
	return -EROFS;
}

static int f_rmdir(const char *path, void *userdata)
{
	(void)path;
	(void)userdata;
	return -EROFS;
}

static int f_mmap(size_t len, int prot, int flags, int fd, off_t offset, void **ret_addr,
		  void *userdata)
{
	struct shm *s = shm_by_fd(userdata, fd);
	void *p;

	if (s == NULL)
		return -EBADF;
	if (offset != 0 || len > s->size || !(flags & MAP_SHARED))
		return -EINVAL;
	p = mmap(NULL, len, prot, flags, fd, offset);
	if (p == MAP_FAILED)
		return -errno;
	*ret_addr = p;
	return 0;
}

static int f_munmap(void *addr, size_t len, void *userdata)
{
	(void)userdata;
	return munmap(addr, len) < 0 ? -errno : 0;
}

/* ---- setup ----------------------------------------------------------------------------------- */

struct fake_tee *fake_tee_new(void)
{
	struct fake_tee *t = xmalloc(sizeof(*t));

	t->ops = (struct ebcc__hostops){
		.root = "",
		.open = f_open,
		.openat = f_openat,
		.close = f_close,
		.read = f_read,
		.pread = f_pread,
		.write = f_write,
		.ioctl = f_ioctl,
		.mkdir = f_mkdir,
		.mkdirat = f_mkdirat,
		.rmdir = f_rmdir,
		.mmap = f_mmap,
		.munmap = f_munmap,
		.userdata = t,
	};
	t->key = fake_pki_rsa_key(2048);
	t->pubkey_pem = fake_pki_pubkey_pem(t->key);
	return t;
}

void fake_tee_free(struct fake_tee *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < MAX_SHM; i++) {
		if (t->shms[i].used) {
			munmap(t->shms[i].map, t->shms[i].size);
			close(t->shms[i].fd);
		}
	}
	EVP_PKEY_free(t->key);
	free(t->pubkey_pem);
	free(t);
}

const struct ebcc__hostops *fake_tee_host(struct fake_tee *t)
{
	return &t->ops;
}

struct fake_tee_faults *fake_tee_faults(struct fake_tee *t)
{
	return &t->faults;
}

void fake_tee_install(struct fake_tee *t, const uint8_t uuid[16], const uint8_t digest[32])
{
	int i = ta_find(t, uuid);

	for (int j = 0; i < 0 && j < MAX_TAS; j++)
		if (!t->tas[j].used)
			i = j;
	if (i < 0)
		abort();
	t->tas[i].used = true;
	memcpy(t->tas[i].uuid, uuid, 16);
	memcpy(t->tas[i].digest, digest, 32);
}

void fake_tee_reset(struct fake_tee *t)
{
	memset(t->tas, 0, sizeof(t->tas));
	memset(&t->faults, 0, sizeof(t->faults));
}

const char *fake_tee_pubkey_pem(struct fake_tee *t)
{
	return t->pubkey_pem;
}

unsigned fake_tee_open_contexts(struct fake_tee *t)
{
	unsigned n = 0;

	for (int i = 0; i < MAX_CTX; i++)
		n += t->ctx_used[i];
	return n;
}

unsigned fake_tee_open_sessions(struct fake_tee *t)
{
	unsigned n = 0;

	for (int i = 0; i < MAX_SESSIONS; i++)
		n += t->sessions[i].used;
	return n;
}

unsigned fake_tee_shm_alive(struct fake_tee *t)
{
	unsigned n = 0;

	for (int i = 0; i < MAX_SHM; i++)
		n += t->shms[i].used;
	return n;
}

unsigned fake_tee_opens_without_cloexec(struct fake_tee *t)
{
	return t->no_cloexec;
}
