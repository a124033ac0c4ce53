/* SPDX-License-Identifier: MIT */
/* A fake of the Linux SGX driver and the CPU behind it: what it copies in fake-sgx.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <asm/sgx.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "fake-pki.h"
#include "fake-sgx.h"

#define DEVICE "/dev/sgx_enclave"
#define PAGE 4096
#define MAX_FILES 8
#define MAX_MAPS 64
#define ENCLU_EENTER 2
#define ENCLU_ERESUME 3
#define ENCLU_EEXIT 4
#define ATTR_MODE64BIT 0x4
#define ATTR_PROVISIONKEY 0x10
/* ATTRIBUTES bits the CPU reserves (SDM: 0 INIT, 1 DEBUG, 2 MODE64BIT, 4 PROVISIONKEY,
 * 5 EINITTOKEN_KEY, 7 KSS, 10 AEXNOTIFY are defined). */
#define ATTR_RESERVED (~UINT64_C(0xb7) & ~(UINT64_C(1) << 10))
#define SECINFO_PERMS 0x7
#define SECINFO_TYPE_SHIFT 8
#define PT_TCS 1
#define PT_REG 2
/* sgx_target_info_t and sgx_report_t (Intel's sgx_report.h). */
#define TI_SIZE 512
#define TI_MRENCLAVE 0
#define TI_ATTRIBUTES 32
#define TI_MISCSELECT 52
#define REPORT_SIZE 432
#define BODY_SIZE 384
#define REPORT_KEYID 384
#define REPORT_MAC 416
#define QE_FLAGS 0x15 /* INIT, MODE64BIT, PROVISIONKEY: Intel's QE3 */
#define QL_INVALID_REPORT 0xe015 /* SGX_QL_INVALID_REPORT, Intel's sgx_ql_lib_common.h */

struct page {
	bool present;
	uint64_t flags; /* SECINFO */
	uint8_t data[PAGE];
};

struct file {
	int fd; /* a real descriptor of /dev/null: unique, visible as a leak */
	bool created, initialized;
	uint64_t base, size, attributes, xfrm;
	uint32_t miscselect, ssa_frame_size;
	struct page *pages;
	EVP_MD_CTX *md;
	uint8_t mrenclave[32], mrsigner[32];
	uint16_t isv_prod_id, isv_svn;
};

struct map {
	void *addr;
	size_t len;
	int file; /* -1: an anonymous reservation */
};

struct fake_sgx {
	struct ebcc__hostops ops;
	struct fake_sgx_faults faults;
	fake_sgx_entry_fn entry;
	void *userdata;
	struct file files[MAX_FILES];
	struct map maps[MAX_MAPS];
	int last_einit;
	uint8_t last_mrenclave[32];
	unsigned opens;
	/* The CPU's secret behind report keys, and its KEYID (one per fake, as one per boot). */
	uint8_t cpu_secret[32], report_keyid[32];
	/* The quoting enclave: its TARGETINFO; root, processor CA, PCK, attestation key. */
	uint8_t qe_target[TI_SIZE];
	EVP_PKEY *root_key, *ca_key, *pck_key, *att_key;
	X509 *root, *ca, *pck;
	char *root_pem, *chain_pem;
	struct file *entered; /* the enclave a call runs in */
	void (*on_release)(uint8_t *base, void *userdata);
	void *on_release_userdata;
};

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int file_of(struct fake_sgx *f, int fd)
{
	for (int i = 0; i < MAX_FILES; i++)
		if (f->files[i].fd >= 0 && f->files[i].fd == fd)
			return i;
	return -1;
}

/* The CPU's measurement: one 64-byte record. */
static void measure(struct file *e, uint64_t tag, uint64_t a, uint64_t b)
{
	uint8_t r[64] = { 0 };

	put64(r, tag);
	put64(r + 8, a);
	put64(r + 16, b);
	EVP_DigestUpdate(e->md, r, sizeof(r));
}

/* ---- CREATE ------------------------------------------------------------------------------- */

static int ioc_create(struct fake_sgx *f, struct file *e, struct sgx_enclave_create *arg)
{
	uint8_t secs[PAGE], r[64] = { 0 };

	(void)f;
	if (e->created)
		return -EINVAL;
	memcpy(secs, (const void *)(uintptr_t)arg->src, sizeof(secs));
	e->size = le64(secs);
	e->base = le64(secs + 8);
	e->ssa_frame_size = le32(secs + 16);
	e->miscselect = le32(secs + 20);
	e->attributes = le64(secs + 48);
	e->xfrm = le64(secs + 56);
	if (e->size < 2 * PAGE || (e->size & (e->size - 1)) != 0)
		return -EINVAL;
	/* ECREATE's #GP: the driver turns it into -EIO. */
	if ((e->base & (e->size - 1)) != 0 || (e->attributes & ATTR_RESERVED) != 0 ||
	    (e->xfrm & 3) != 3 || e->ssa_frame_size == 0 || (e->attributes & ATTR_MODE64BIT) == 0)
		return -EIO;
	e->pages = calloc(e->size / PAGE, sizeof(*e->pages));
	e->md = EVP_MD_CTX_new();
	if (e->pages == NULL || e->md == NULL)
		return -ENOMEM;
	EVP_DigestInit_ex(e->md, EVP_sha256(), NULL);
	put64(r, 0x0045544145524345);
	memcpy(r + 8, secs + 16, 4);
	put64(r + 12, e->size);
	EVP_DigestUpdate(e->md, r, sizeof(r));
	e->created = true;
	return 0;
}

/* ---- ADD_PAGES ---------------------------------------------------------------------------- */

static bool secinfo_valid(uint64_t flags, const uint8_t *secinfo)
{
	uint64_t type = (flags >> SECINFO_TYPE_SHIFT) & 0xff, perms = flags & SECINFO_PERMS;

	for (int i = 8; i < 64; i++)
		if (secinfo[i] != 0)
			return false;
	if ((flags & ~(SECINFO_PERMS | (UINT64_C(0xff) << SECINFO_TYPE_SHIFT))) != 0)
		return false;
	if (type != PT_REG && type != PT_TCS)
		return false;
	if ((perms & 2) != 0 && (perms & 1) == 0)
		return false;
	return type != PT_TCS || perms == 0;
}

static int ioc_add(struct fake_sgx *f, struct file *e, struct sgx_enclave_add_pages *arg)
{
	const uint8_t *secinfo = (const uint8_t *)(uintptr_t)arg->secinfo;
	uint64_t flags, c;

	if (!e->created || e->initialized)
		return -EINVAL;
	if (arg->src % PAGE != 0 || arg->offset % PAGE != 0 || arg->length % PAGE != 0 ||
	    arg->length == 0 || arg->offset + arg->length < arg->offset ||
	    arg->offset + arg->length - PAGE >= e->size)
		return -EINVAL;
	if ((arg->flags & ~(uint64_t)SGX_PAGE_MEASURE) != 0)
		return -EINVAL;
	flags = le64(secinfo);
	if (!secinfo_valid(flags, secinfo))
		return -EINVAL;
	for (c = 0; c < arg->length; c += PAGE) {
		struct page *pg = &e->pages[(arg->offset + c) / PAGE];

		if (f->faults.add_stop_after > 0 && c / PAGE == f->faults.add_stop_after)
			break; /* a pending signal: what was added is kept, count says how much */
		if (pg->present) {
			arg->count = c; /* written back on failure too */
			return -EBUSY;
		}
		pg->present = true;
		pg->flags = flags;
		memcpy(pg->data, (const uint8_t *)(uintptr_t)(arg->src + c), PAGE);
		measure(e, 0x0000000044444145, arg->offset + c, flags);
		if (arg->flags & SGX_PAGE_MEASURE) {
			for (int i = 0; i < PAGE; i += 256) {
				measure(e, 0x00444E4554584545, arg->offset + c + (uint64_t)i, 0);
				EVP_DigestUpdate(e->md, pg->data + i, 256);
			}
		}
	}
	arg->count = c;
	return 0;
}

/* ---- INIT --------------------------------------------------------------------------------- */

static BIGNUM *bn_le(const uint8_t *p, int n)
{
	uint8_t be[384];

	for (int i = 0; i < n; i++)
		be[i] = p[n - 1 - i];
	return BN_bin2bn(be, n, NULL);
}

/* EINIT's signature check, from the definitions: s^3 mod n against EMSA-PKCS1-v1_5(SHA-256 of
 * header || body), and q1, q2 as the CPU uses them. */
static bool signature_valid(const uint8_t *ss)
{
	static const uint8_t digest_info[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
					       0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
					       0x20 };
	uint8_t msg[256], em[384], got[384];
	unsigned int hlen = 0;
	BIGNUM *n = bn_le(ss + 128, 384), *s = bn_le(ss + 516, 384), *q1 = bn_le(ss + 1040, 384);
	BIGNUM *q2 = bn_le(ss + 1424, 384), *e = BN_new(), *m = BN_new(), *t = BN_new();
	BIGNUM *rem = BN_new(), *want = BN_new();
	BN_CTX *bn = BN_CTX_new();
	bool ok = false;

	memcpy(msg, ss, 128);
	memcpy(msg + 128, ss + 900, 128);
	memset(em, 0xff, sizeof(em));
	em[0] = 0;
	em[1] = 1;
	em[384 - 32 - sizeof(digest_info) - 1] = 0;
	memcpy(em + 384 - 32 - sizeof(digest_info), digest_info, sizeof(digest_info));
	EVP_Digest(msg, sizeof(msg), em + 384 - 32, &hlen, EVP_sha256(), NULL);
	if (le32(ss + 512) == 3 && BN_set_word(e, 3) && BN_cmp(s, n) < 0 &&
	    BN_mod_exp(m, s, e, n, bn) && BN_bn2binpad(m, got, sizeof(got)) == 384 &&
	    memcmp(got, em, sizeof(em)) == 0 &&
	    /* q1 = floor(s^2 / n), q2 = floor(s * (s^2 mod n) / n) */
	    BN_mul(t, s, s, bn) && BN_div(want, rem, t, n, bn) && BN_cmp(want, q1) == 0 &&
	    BN_mul(t, s, rem, bn) && BN_div(want, NULL, t, n, bn) && BN_cmp(want, q2) == 0)
		ok = true;
	BN_free(n), BN_free(s), BN_free(q1), BN_free(q2), BN_free(e), BN_free(m), BN_free(t);
	BN_free(rem), BN_free(want);
	BN_CTX_free(bn);
	return ok;
}

static int einit(const struct fake_sgx_faults *faults, struct file *e, const uint8_t *ss)
{
	static const uint8_t h1[16] = { 6, 0, 0, 0, 0xe1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0 };
	static const uint8_t h2[16] = { 1, 1, 0, 0, 0x60, 0, 0, 0, 0x60, 0, 0, 0, 1, 0, 0, 0 };
	uint64_t attr = le64(ss + 928), xfrm = le64(ss + 936);
	uint64_t attr_mask = le64(ss + 944), xfrm_mask = le64(ss + 952);
	uint32_t misc = le32(ss + 900), misc_mask = le32(ss + 904);
	EVP_MD_CTX *md;
	unsigned int n = 0;

	if (memcmp(ss, h1, 16) != 0 || memcmp(ss + 24, h2, 16) != 0)
		return FAKE_SGX_INVALID_SIG_STRUCT;
	if (!signature_valid(ss))
		return FAKE_SGX_INVALID_SIGNATURE;
	if ((e->attributes & attr_mask) != (attr & attr_mask) ||
	    (e->xfrm & xfrm_mask) != (xfrm & xfrm_mask) ||
	    (e->miscselect & misc_mask) != (misc & misc_mask))
		return FAKE_SGX_INVALID_ATTRIBUTE;
	/* The measurement is final now; a copy so that a refused EINIT could be retried. */
	md = EVP_MD_CTX_new();
	EVP_MD_CTX_copy_ex(md, e->md);
	EVP_DigestFinal_ex(md, e->mrenclave, &n);
	EVP_MD_CTX_free(md);
	if (memcmp(e->mrenclave, ss + 960, 32) != 0)
		return FAKE_SGX_INVALID_MEASUREMENT;
	EVP_Digest(ss + 128, 384, e->mrsigner, &n, EVP_sha256(), NULL);
	if (faults->einit_error != 0)
		return faults->einit_error;
	e->isv_prod_id = (uint16_t)(ss[1024] | ss[1025] << 8);
	e->isv_svn = (uint16_t)(ss[1026] | ss[1027] << 8);
	return 0;
}

static int ioc_init(struct fake_sgx *f, struct file *e, struct sgx_enclave_init *arg)
{
	const uint8_t *ss = (const uint8_t *)(uintptr_t)arg->sigstruct;
	uint32_t vendor;
	int code;

	if (!e->created || e->initialized)
		return -EINVAL;
	vendor = le32(ss + 16);
	if (vendor != 0 && vendor != 0x8086)
		return -EINVAL;
	if ((le64(ss + 928) & ATTR_RESERVED) != 0 || (le64(ss + 936) & 3) != 3)
		return -EINVAL;
	if ((e->attributes & ATTR_PROVISIONKEY) != 0)
		return -EACCES; /* no PROVISION ioctl in this fake */
	code = einit(&f->faults, e, ss);
	f->last_einit = code;
	memcpy(f->last_mrenclave, e->mrenclave, 32);
	if (code != 0)
		return -EPERM;
	e->initialized = true;
	return 0;
}

/* ---- the host operations ------------------------------------------------------------------ */

static int f_open(const char *path, int flags, mode_t mode, void *userdata)
{
	struct fake_sgx *f = userdata;

	(void)mode;
	if (strcmp(path, DEVICE) != 0 || f->faults.no_device)
		return -ENOENT;
	if ((flags & O_ACCMODE) != O_RDWR)
		return -EACCES;
	for (int i = 0; i < MAX_FILES; i++) {
		if (f->files[i].fd < 0) {
			int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

			if (fd < 0)
				return -errno;
			memset(&f->files[i], 0, sizeof(f->files[i]));
			f->files[i].fd = fd;
			f->opens++;
			return fd;
		}
	}
	return -EMFILE;
}

static void file_free(struct file *e)
{
	free(e->pages);
	EVP_MD_CTX_free(e->md);
	close(e->fd);
	memset(e, 0, sizeof(*e));
	e->fd = -1;
}

static int f_close(int fd, void *userdata)
{
	struct fake_sgx *f = userdata;
	int i = file_of(f, fd);

	if (i < 0)
		return -EBADF;
	/* The kernel keeps a mapped enclave until its last mapping goes; the fake frees it at
	 * close and counts the mappings left as a leak. */
	if (f->files[i].initialized && f->on_release != NULL)
		f->on_release((uint8_t *)(uintptr_t)f->files[i].base, f->on_release_userdata);
	file_free(&f->files[i]);
	return 0;
}

static int f_ioctl(int fd, unsigned long request, void *arg, void *userdata)
{
	struct fake_sgx *f = userdata;
	int i = file_of(f, fd);

	if (i < 0)
		return -EBADF;
	switch (request) {
	case SGX_IOC_ENCLAVE_CREATE:
		return ioc_create(f, &f->files[i], arg);
	case SGX_IOC_ENCLAVE_ADD_PAGES:
		return ioc_add(f, &f->files[i], arg);
	case SGX_IOC_ENCLAVE_INIT:
		return ioc_init(f, &f->files[i], arg);
	default:
		return -ENOTTY;
	}
}

static int add_map(struct fake_sgx *f, void *addr, size_t len, int file)
{
	for (int i = 0; i < MAX_MAPS; i++) {
		if (f->maps[i].addr == NULL) {
			f->maps[i] = (struct map){ addr, len, file };
			return 0;
		}
	}
	return -ENOMEM;
}

/* sgx_encl_may_map(): the VMA's protection within every added page's permissions. */
static int may_map(const struct file *e, uint64_t offset, size_t len, int prot)
{
	for (uint64_t o = offset; o < offset + len; o += PAGE) {
		const struct page *pg = &e->pages[o / PAGE];
		uint64_t perms;

		if (!pg->present)
			continue;
		perms = ((pg->flags >> SECINFO_TYPE_SHIFT) & 0xff) == PT_TCS ? 3 : pg->flags & 7;
		if (((prot & PROT_READ) && !(perms & 1)) || ((prot & PROT_WRITE) && !(perms & 2)) ||
		    ((prot & PROT_EXEC) && !(perms & 4)))
			return -EACCES;
	}
	return 0;
}

static int f_mmap_at(void *addr, size_t len, int prot, int flags, int fd, off_t offset,
		     void **ret_addr, void *userdata)
{
	struct fake_sgx *f = userdata;
	struct file *e;
	uint64_t at;
	void *p;
	int i, r;

	if (fd < 0) {
		p = mmap(addr, len, prot, flags, -1, offset);
		if (p == MAP_FAILED)
			return -errno;
		r = add_map(f, p, len, -1);
		if (r < 0) {
			munmap(p, len);
			return r;
		}
		*ret_addr = p;
		return 0;
	}
	i = file_of(f, fd);
	if (i < 0)
		return -EBADF;
	e = &f->files[i];
	if ((flags & MAP_TYPE) != MAP_SHARED || !e->created)
		return -EINVAL;
	at = (uint64_t)(uintptr_t)addr;
	if (!(flags & MAP_FIXED) || at < e->base || len == 0 || len % PAGE != 0 ||
	    len > e->size || at - e->base > e->size - len)
		return -EINVAL;
	r = may_map(e, at - e->base, len, prot);
	if (r < 0)
		return r;
	/* The pages' contents, readable where the enclave's code expects them. */
	p = mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	for (size_t o = 0; o < len; o += PAGE)
		if (e->pages[(at - e->base + o) / PAGE].present)
			memcpy((uint8_t *)p + o, e->pages[(at - e->base + o) / PAGE].data, PAGE);
	if (mprotect(p, len, prot | PROT_READ) < 0)
		return -errno;
	r = add_map(f, p, len, i);
	if (r < 0)
		return r;
	*ret_addr = p;
	return 0;
}

static int f_munmap(void *addr, size_t len, void *userdata)
{
	struct fake_sgx *f = userdata;
	uint8_t *a = addr;

	/* Every tracked mapping inside the range goes (a reservation is unmapped whole). */
	for (int i = 0; i < MAX_MAPS; i++) {
		uint8_t *m = f->maps[i].addr;

		if (m != NULL && m >= a && m + f->maps[i].len <= a + len)
			f->maps[i].addr = NULL;
	}
	return munmap(addr, len) < 0 ? -errno : 0;
}

static int f_sgx_enter(unsigned long rdi, unsigned long rsi, unsigned long rdx,
		       unsigned int function, unsigned long r8, unsigned long r9, void *arg,
		       void *userdata)
{
	struct fake_sgx *f = userdata;
	struct sgx_enclave_run *run = arg;
	struct fake_sgx_call call = { .fake = f, .rdi = rdi, .rsi = rsi, .rdx = rdx, .r8 = r8, .r9 = r9 };
	struct file *e = NULL;

	if (function != ENCLU_EENTER && function != ENCLU_ERESUME)
		return -EINVAL;
	for (int i = 0; i < MAX_FILES && e == NULL; i++)
		if (f->files[i].fd >= 0 && f->files[i].initialized &&
		    run->tcs >= f->files[i].base && run->tcs < f->files[i].base + f->files[i].size)
			e = &f->files[i];
	run->function = function;
	if (e == NULL || function == ENCLU_ERESUME || run->tcs % PAGE != 0 ||
	    ((e->pages[(run->tcs - e->base) / PAGE].flags >> SECINFO_TYPE_SHIFT) & 0xff) != PT_TCS) {
		/* EENTER on what is not a TCS of an initialized enclave: #GP. */
		run->exception_vector = 13;
		run->exception_error_code = 0;
		run->exception_addr = 0;
		return -EFAULT;
	}
	f->entered = e;
	call.base = (uint8_t *)(uintptr_t)e->base;
	call.size = e->size;
	call.tcs_offset = run->tcs - e->base;
	memcpy(call.mrenclave, e->mrenclave, 32);
	memcpy(call.mrsigner, e->mrsigner, 32);
	f->entry(&call, f->userdata);
	f->entered = NULL;
	if (call.exception_vector != 0) {
		run->exception_vector = call.exception_vector;
		run->exception_error_code = call.exception_error_code;
		run->exception_addr = call.exception_addr;
		return -EFAULT;
	}
	run->function = ENCLU_EEXIT;
	return 0;
}

/* ---- EREPORT and the quoting enclave ---------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* The report key of a target, given as a TARGETINFO (to EREPORT; the QE's own to its EGETKEY):
 * from the CPU's secret, the target's MRENCLAVE, ATTRIBUTES and MISCSELECT, and the KEYID. */
static void report_key(const struct fake_sgx *f, const uint8_t *target, const uint8_t *keyid,
		       uint8_t key[16])
{
	uint8_t in[32 + 16 + 4 + 32], mac[32];
	size_t n = 0;

	memcpy(in, target + TI_MRENCLAVE, 32);
	memcpy(in + 32, target + TI_ATTRIBUTES, 16);
	memcpy(in + 48, target + TI_MISCSELECT, 4);
	memcpy(in + 52, keyid, 32);
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, f->cpu_secret, sizeof(f->cpu_secret), in,
		      sizeof(in), mac, sizeof(mac), &n) == NULL)
		abort();
	memcpy(key, mac, 16);
}

/* The REPORT's MAC: AES-128-CMAC of its body. */
static void report_mac(const uint8_t key[16], const uint8_t *body, uint8_t mac[16])
{
	size_t n = 0;

	if (EVP_Q_mac(NULL, "CMAC", NULL, "AES-128-CBC", NULL, key, 16, body, BODY_SIZE, mac, 16,
		      &n) == NULL)
		abort();
}

void fake_sgx_ereport(const struct fake_sgx_call *call, const uint8_t target_info[512],
		      const uint8_t report_data[64], uint8_t report[432])
{
	const struct fake_sgx *f = call->fake;
	const struct file *e = f->entered;
	uint8_t key[16];

	if (e == NULL)
		abort(); /* ENCLU outside an enclave is #UD: a broken test */
	/* The enclave as the CPU knows it. */
	memset(report, 0, REPORT_SIZE);
	memset(report, FAKE_SGX_TCB_SVN, 16); /* CPUSVN */
	memcpy(report + 16, &e->miscselect, 4);
	put64(report + 48, e->attributes | 1); /* INIT */
	put64(report + 56, e->xfrm);
	memcpy(report + 64, e->mrenclave, 32);
	memcpy(report + 128, e->mrsigner, 32);
	put16(report + 256, e->isv_prod_id);
	put16(report + 258, e->isv_svn);
	memcpy(report + 320, report_data, 64);
	memcpy(report + REPORT_KEYID, f->report_keyid, 32);
	report_key(f, target_info, f->report_keyid, key);
	report_mac(key, report, report + REPORT_MAC);
}

/* The quoting enclave: sgx_verify_report() (EGETKEY of its report key for the REPORT's KEYID,
 * the CMAC compared), then the quote of the REPORT's body. 0 or SGX_QL_INVALID_REPORT. */
static int qe_quote(const struct fake_sgx *f, const uint8_t *report, uint8_t **ret,
		    size_t *ret_len)
{
	static const uint8_t intel_qe_vendor[16] = { 0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
						     0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07 };
	static const uint8_t qe_mrsigner[32] = { 0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e,
						 0x96, 0x13, 0x7f, 0x77, 0xc6, 0x8a, 0x82, 0x9a,
						 0x00, 0x56, 0xac, 0x8d, 0xed, 0x70, 0x14, 0x0b,
						 0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff };
	size_t chain_len = strlen(f->chain_pem) + 1; /* ended with a NUL, as PCS serves it */
	size_t sig_len = 64 + 64 + 384 + 64 + 2 + 32 + 6 + chain_len;
	size_t len = 48 + 384 + 4 + sig_len;
	uint8_t key[16], mac[16], auth[32], att_raw[64], bind[96];
	uint8_t *q, *sig, *qe, *p;
	unsigned int n = 0;

	report_key(f, f->qe_target, report + REPORT_KEYID, key);
	report_mac(key, report, mac);
	if (CRYPTO_memcmp(mac, report + REPORT_MAC, sizeof(mac)) != 0)
		return QL_INVALID_REPORT;
	q = calloc(1, len);
	if (q == NULL)
		abort();
	sig = q + 436;
	qe = sig + 128;
	put16(q, 3);
	put16(q + 2, 2);
	put16(q + 8, 8);  /* QE SVN */
	put16(q + 10, 13); /* PCE SVN */
	memcpy(q + 12, intel_qe_vendor, 16);
	memcpy(q + 48, report, BODY_SIZE);
	for (int i = 0; i < 4; i++)
		q[432 + i] = (uint8_t)(sig_len >> (8 * i));
	/* Its own report binds the attestation key, the PCK key signs it. */
	fake_pki_ec_raw_public(f->att_key, att_raw, 32);
	memcpy(sig + 64, att_raw, 64);
	memset(auth, 0x5a, sizeof(auth));
	memcpy(bind, att_raw, 64);
	memcpy(bind + 64, auth, 32);
	memset(qe, FAKE_SGX_TCB_SVN, 16); /* CPUSVN */
	memcpy(qe + 16, f->qe_target + TI_MISCSELECT, 4);
	memcpy(qe + 48, f->qe_target + TI_ATTRIBUTES, 16);
	memcpy(qe + 64, f->qe_target + TI_MRENCLAVE, 32);
	memcpy(qe + 128, qe_mrsigner, 32);
	put16(qe + 256, 1);
	put16(qe + 258, 8);
	EVP_Digest(bind, sizeof(bind), qe + 320, &n, EVP_sha256(), NULL);
	fake_pki_ecdsa_sign_raw(f->pck_key, "SHA256", qe, 384, qe + 384, qe + 416, 32, false);
	p = qe + 448;
	put16(p, sizeof(auth));
	memcpy(p + 2, auth, sizeof(auth));
	p += 2 + sizeof(auth);
	put16(p, 5);
	for (int i = 0; i < 4; i++)
		p[2 + i] = (uint8_t)(chain_len >> (8 * i));
	memcpy(p + 6, f->chain_pem, chain_len);
	fake_pki_ecdsa_sign_raw(f->att_key, "SHA256", q, 432, sig, sig + 32, 32, false);
	*ret = q;
	*ret_len = len;
	return 0;
}

/* Intel's quote library, as the host operations present it. */
static int f_sgx_qe_target_info(uint8_t target_info[512], void *userdata)
{
	struct fake_sgx *f = userdata;

	if (f->faults.qe_absent)
		return -ENOENT;
	memcpy(target_info, f->qe_target, TI_SIZE);
	return 0;
}

static int f_sgx_qe_quote(const uint8_t report[432], uint8_t **ret_quote, size_t *ret_len,
			  void *userdata)
{
	struct fake_sgx *f = userdata;

	if (f->faults.qe_absent)
		return -ENOENT;
	if (f->faults.qe_error != 0)
		return (int)f->faults.qe_error;
	return qe_quote(f, report, ret_quote, ret_len);
}

void fake_sgx_quote(const struct fake_sgx_call *call, const uint8_t report_data[64],
		    uint8_t **ret, size_t *ret_len)
{
	uint8_t report[REPORT_SIZE];

	fake_sgx_ereport(call, call->fake->qe_target, report_data, report);
	if (qe_quote(call->fake, report, ret, ret_len) != 0)
		abort();
}

const char *fake_sgx_root_pem(const struct fake_sgx *f)
{
	return f->root_pem;
}

void fake_sgx_pki(const struct fake_sgx *f, X509 **root, EVP_PKEY **root_key, X509 **ca,
		  EVP_PKEY **ca_key)
{
	*root = f->root;
	*root_key = f->root_key;
	*ca = f->ca;
	*ca_key = f->ca_key;
}

static char *concat3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(n);

	if (s == NULL)
		abort();
	strcpy(s, a);
	strcat(s, b);
	strcat(s, c);
	return s;
}

static void pki_new(struct fake_sgx *f)
{
	struct fake_pki_sgx_tcb tcb = { .pcesvn = FAKE_SGX_PCESVN, .fmspc = FAKE_SGX_FMSPC };
	struct fake_pki_ext ext = { .oid = "1.2.840.113741.1.13.1" };
	uint8_t *der = NULL;
	char *leaf, *ca;

	f->root_key = fake_pki_ec_key("P-256");
	f->ca_key = fake_pki_ec_key("P-256");
	f->pck_key = fake_pki_ec_key("P-256");
	f->att_key = fake_pki_ec_key("P-256");
	f->root = fake_pki_cert("Test SGX Root CA", f->root_key, NULL, NULL, true);
	f->ca = fake_pki_cert("Test SGX PCK Processor CA", f->ca_key, f->root, f->root_key, true);
	memset(tcb.svn, FAKE_SGX_TCB_SVN, sizeof(tcb.svn));
	memset(tcb.cpusvn, FAKE_SGX_TCB_SVN, sizeof(tcb.cpusvn));
	ext.len = fake_pki_sgx_ext(&tcb, &der);
	ext.value = der;
	f->pck = fake_pki_cert_with("Test SGX PCK Certificate", f->pck_key, f->ca, f->ca_key, false,
				    &ext, 1);
	free(der);
	f->root_pem = fake_pki_cert_pem(f->root);
	leaf = fake_pki_cert_pem(f->pck);
	ca = fake_pki_cert_pem(f->ca);
	f->chain_pem = concat3(leaf, ca, f->root_pem);
	free(leaf);
	free(ca);
}

struct fake_sgx *fake_sgx_new(fake_sgx_entry_fn entry, void *userdata)
{
	struct fake_sgx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		abort();
	pki_new(f);
	if (RAND_bytes(f->cpu_secret, sizeof(f->cpu_secret)) != 1 ||
	    RAND_bytes(f->report_keyid, sizeof(f->report_keyid)) != 1)
		abort();
	memcpy(f->qe_target + TI_MRENCLAVE, "libebcc fake SGX quoting enclave", 32);
	put64(f->qe_target + TI_ATTRIBUTES, QE_FLAGS);
	put64(f->qe_target + TI_ATTRIBUTES + 8, 3); /* XFRM: x87, SSE */
	for (int i = 0; i < MAX_FILES; i++)
		f->files[i].fd = -1;
	f->entry = entry;
	f->userdata = userdata;
	f->ops = (struct ebcc__hostops){
		.root = "",
		.open = f_open,
		.close = f_close,
		.ioctl = f_ioctl,
		.munmap = f_munmap,
		.mmap_at = f_mmap_at,
		.sgx_enter = f_sgx_enter,
		.sgx_qe_target_info = f_sgx_qe_target_info,
		.sgx_qe_quote = f_sgx_qe_quote,
		.userdata = f,
	};
	return f;
}

void fake_sgx_free(struct fake_sgx *f)
{
	for (int i = 0; i < MAX_FILES; i++)
		if (f->files[i].fd >= 0)
			file_free(&f->files[i]);
	for (int i = 0; i < MAX_MAPS; i++)
		if (f->maps[i].addr != NULL)
			munmap(f->maps[i].addr, f->maps[i].len);
	EVP_PKEY_free(f->root_key);
	EVP_PKEY_free(f->ca_key);
	EVP_PKEY_free(f->pck_key);
	EVP_PKEY_free(f->att_key);
	X509_free(f->root);
	X509_free(f->ca);
	X509_free(f->pck);
	free(f->root_pem);
	free(f->chain_pem);
	free(f);
}

const struct ebcc__hostops *fake_sgx_host(struct fake_sgx *f)
{
	return &f->ops;
}

struct fake_sgx_faults *fake_sgx_faults(struct fake_sgx *f)
{
	return &f->faults;
}

void fake_sgx_on_release(struct fake_sgx *f, void (*fn)(uint8_t *base, void *userdata),
			 void *userdata)
{
	f->on_release = fn;
	f->on_release_userdata = userdata;
}

int fake_sgx_last_einit(const struct fake_sgx *f)
{
	return f->last_einit;
}

const uint8_t *fake_sgx_last_mrenclave(const struct fake_sgx *f)
{
	return f->last_mrenclave;
}

unsigned fake_sgx_open_files(const struct fake_sgx *f)
{
	unsigned n = 0;

	for (int i = 0; i < MAX_FILES; i++)
		n += f->files[i].fd >= 0;
	return n;
}

unsigned fake_sgx_mappings(const struct fake_sgx *f)
{
	unsigned n = 0;

	for (int i = 0; i < MAX_MAPS; i++)
		n += f->maps[i].addr != NULL;
	return n;
}

unsigned fake_sgx_opens(const struct fake_sgx *f)
{
	return f->opens;
}
