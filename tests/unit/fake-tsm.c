/* SPDX-License-Identifier: MIT */
/* A fake configfs-tsm with tdx_guest and sev_guest providers, for tests (see fake-tsm.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "../../backends/common/bytes.h"
#include "fake-pki.h"
#include "fake-tsm.h"

#define FAKE_FD_BASE (1 << 20)
#define MAX_ENTRIES 32
#define MAX_FDS 64
#define CONFIG_DIR "/sys/kernel/config"
#define TSM_DIR CONFIG_DIR "/tsm"
#define REPORT_DIR TSM_DIR "/report"
#define TSM_INBLOB_MAX 64
#define PAGE 4096

enum attr {
	A_PROVIDER,
	A_GENERATION,
	A_INBLOB,
	A_OUTBLOB,
	A_AUXBLOB,
	A_PRIVLEVEL,
	A_PRIVLEVEL_FLOOR,
	A_COUNT,
};

static const struct {
	const char *name;
	bool readable, writable, snp_only;
} attrs[A_COUNT] = {
	[A_PROVIDER] = { "provider", true, false, false },
	[A_GENERATION] = { "generation", true, false, false },
	[A_INBLOB] = { "inblob", false, true, false },
	[A_OUTBLOB] = { "outblob", true, false, false },
	[A_AUXBLOB] = { "auxblob", true, false, true },
	[A_PRIVLEVEL] = { "privlevel", false, true, true },
	[A_PRIVLEVEL_FLOOR] = { "privlevel_floor", true, false, true },
};

struct entry {
	bool used;
	char name[256];
	uint8_t inblob[TSM_INBLOB_MAX];
	size_t inblob_len;
	unsigned long write_gen, read_gen;
	bool have_report;
	uint8_t *outblob, *auxblob;
	size_t outblob_len, auxblob_len;
};

enum fd_kind { FD_FREE, FD_DIR, FD_ENTRY_DIR, FD_ATTR };

struct fd {
	enum fd_kind kind;
	int entry;
	enum attr attr;
	int flags;
	bool filled;
	uint8_t *data; /* what reads see, filled on the first one */
	size_t len;
	size_t pos;
	uint8_t wbuf[PAGE]; /* a binary attribute's write buffer, handed over on close */
	size_t wlen;
	bool written;
};

struct fake_tsm {
	struct ebcc__hostops ops;
	enum fake_tsm_provider provider;
	struct fake_tsm_faults faults;
	struct entry entries[MAX_ENTRIES];
	struct fd fds[MAX_FDS];
	unsigned mkdirs, reports, no_cloexec;
	/* TDX: root CA -> PCK platform CA -> PCK leaf; attestation key. SNP: ARK -> ASK -> VCEK. */
	EVP_PKEY *root_key, *ca_key, *leaf_key, *att_key;
	X509 *root, *ca, *leaf;
	char *root_pem, *signer_key_pem, *chain_pem, *pck_chain_pem;
	uint8_t *aux_template;
	size_t aux_template_len;
	struct fake_tsm_faults leaf_issued_for; /* SNP: the faults the VCEK/VLEK reflects */
	uint8_t measurement[48];
	char measurement_hex[97];
};

static const uint8_t intel_qe_vendor_id[16] = { 0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
						0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07 };
static const uint8_t guid_vcek[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
				       0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
static const uint8_t guid_vlek[16] = { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
				       0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1 };
static const uint8_t guid_ask[16] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
				      0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };
static const uint8_t guid_ark[16] = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
				      0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae };

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n > 0 ? n : 1);

	if (p == NULL)
		abort();
	return p;
}

static char *concat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = xmalloc(la + lb + lc + 1);

	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

static void pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 7 * i);
}

/* ---- reports the providers make ------------------------------------------------------------ */

static void tdx_quote(struct fake_tsm *t, const uint8_t report_data[64], uint8_t **ret,
		      size_t *ret_len)
{
	bool v5 = t->faults.tdx_body_type != 0;
	size_t body_size = t->faults.tdx_body_type == 3 ? 648 : 584;
	size_t signed_len = 48 + (v5 ? 6 : 0) + body_size;
	size_t chain_len = strlen(t->pck_chain_pem) + 1; /* the QGS's chain ends with a NUL */
	size_t auth_len = 32;
	size_t inner = 384 + 64 + 2 + auth_len + 2 + 4 + chain_len;
	size_t sig_data = 64 + 64 + 2 + 4 + inner;
	size_t len = signed_len + 4 + sig_data;
	uint8_t *q = xmalloc(len), *h = q, *body = q + signed_len - body_size, *p, att_raw[64];
	uint8_t *qe, auth[32], hash[32];

	/* header */
	ebcc__put_le16(h, v5 ? 5 : 4);
	ebcc__put_le16(h + 2, 2);
	ebcc__put_le32(h + 4, 0x81);
	memcpy(h + 12, intel_qe_vendor_id, 16);
	pattern(h + 28, 20, 0x11);
	if (v5) {
		ebcc__put_le16(h + 48, t->faults.tdx_body_type);
		ebcc__put_le32(h + 50, (uint32_t)body_size);
	}
	/* TD report body */
	pattern(body, 16, 0x03);                        /* TEE_TCB_SVN */
	pattern(body + 16, 48, 0x20);                   /* MRSEAM */
	ebcc__put_le64(body + 120, t->faults.debug ? 1 : 0); /* TDATTRIBUTES */
	ebcc__put_le64(body + 128, 0x61807);            /* XFAM */
	memcpy(body + 136, t->measurement, 48);         /* MRTD */
	pattern(body + 328, 192, 0x40);                 /* RTMR0..3 */
	memcpy(body + 520, report_data, 64);
	if (body_size == 648) {
		pattern(body + 584, 16, 0x05);          /* TEE_TCB_SVN2 */
		pattern(body + 600, 48, 0x66);          /* MRSERVICETD */
	}
	ebcc__put_le32(q + signed_len, (uint32_t)sig_data);
	p = q + signed_len + 4;
	/* quote signature by the attestation key, then the key */
	fake_pki_ecdsa_sign_raw(t->att_key, "SHA256", q, signed_len, p, p + 32, 32, false);
	fake_pki_ec_raw_public(t->att_key, att_raw, 32);
	memcpy(p + 64, att_raw, 64);
	p += 128;
	ebcc__put_le16(p, 6);
	ebcc__put_le32(p + 2, (uint32_t)inner);
	p += 6;
	/* QE report: an SGX report body whose REPORTDATA binds the attestation key */
	qe = p;
	pattern(qe, 384, 0x5a);
	ebcc__put_le16(qe + 256, 2); /* ISVPRODID: the TD QE */
	ebcc__put_le16(qe + 258, 7); /* ISVSVN */
	for (size_t i = 0; i < auth_len; i++)
		auth[i] = (uint8_t)i;
	{
		uint8_t bound[64 + 32];

		memcpy(bound, att_raw, 64);
		memcpy(bound + 64, auth, auth_len);
		if (EVP_Digest(bound, 64 + auth_len, hash, NULL, EVP_sha256(), NULL) != 1)
			abort();
	}
	memcpy(qe + 320, hash, 32);
	memset(qe + 352, 0, 32);
	fake_pki_ecdsa_sign_raw(t->leaf_key, "SHA256", qe, 384, p + 384, p + 384 + 32, 32, false);
	p += 384 + 64;
	ebcc__put_le16(p, (uint16_t)auth_len);
	memcpy(p + 2, auth, auth_len);
	p += 2 + auth_len;
	ebcc__put_le16(p, 5);
	ebcc__put_le32(p + 2, (uint32_t)chain_len);
	memcpy(p + 6, t->pck_chain_pem, chain_len);
	/* What the quote service hands back: a buffer of its own size, zero after the quote. */
	if (!t->faults.tdx_no_padding && (!v5 || t->faults.tdx_buffer > len)) {
		size_t padded = t->faults.tdx_buffer > len ? t->faults.tdx_buffer : len + 70;
		uint8_t *b = xmalloc(padded);

		memcpy(b, q, len);
		if (t->faults.tdx_dirty_padding)
			b[padded - 1] = 0x01;
		free(q);
		q = b;
		len = padded;
	}
	*ret = q;
	*ret_len = len;
}

/* Milan and Genoa: bl 4, snp 24, ucode 219; Turin: fmc 1, bl 4, tee 0, snp 24, ucode 72. */
static uint64_t snp_tcb(const struct fake_tsm *t)
{
	return t->faults.snp_chip == FAKE_SNP_TURIN ? 0x4800000018000401ull : 0xdb18000000000004ull;
}

static void snp_report(struct fake_tsm *t, const uint8_t report_data[64], uint8_t **ret,
		       size_t *ret_len)
{
	static const uint8_t cpuid[][3] = {
		[FAKE_SNP_MILAN] = { 0x19, 0x01, 0x01 },
		[FAKE_SNP_GENOA] = { 0x19, 0x11, 0x01 },
		[FAKE_SNP_TURIN] = { 0x1a, 0x02, 0x01 },
	};
	uint32_t version = t->faults.snp_version != 0 ? t->faults.snp_version : 3;
	uint64_t tcb = snp_tcb(t);
	uint8_t *r = xmalloc(0x4a0);

	ebcc__put_le32(r, version);                               /* VERSION */
	ebcc__put_le32(r + 0x04, 1);                              /* GUEST_SVN */
	ebcc__put_le64(r + 0x08, 0x30000 | t->faults.snp_policy_bits |
				 (t->faults.debug ? (1u << 19) : 0)); /* POLICY */
	pattern(r + 0x10, 32, 0x31);                              /* FAMILY_ID, IMAGE_ID */
	ebcc__put_le32(r + 0x34, 1);                              /* ECDSA P-384 SHA-384 */
	ebcc__put_le64(r + 0x38, tcb);                            /* CURRENT_TCB */
	ebcc__put_le64(r + 0x40, 1);                              /* PLATFORM_INFO */
	ebcc__put_le32(r + 0x48, t->faults.snp_vlek ? 1u << 2 : 0); /* SIGNING_KEY */
	memcpy(r + 0x50, report_data, 64);
	memcpy(r + 0x90, t->measurement, 48);
	pattern(r + 0x140, 32, 0x77);                             /* REPORT_ID */
	ebcc__put_le64(r + 0x180, tcb);                           /* REPORTED_TCB */
	if (version >= 3)
		memcpy(r + 0x188, cpuid[t->faults.snp_chip], 3);  /* CPUID_FAM, MOD, STEP */
	if (!t->faults.snp_vlek)
		pattern(r + 0x1a0, 64, 0x99);                     /* CHIP_ID (zero for VLEK) */
	ebcc__put_le64(r + 0x1e0, tcb);                           /* COMMITTED_TCB */
	r[0x1e8] = 0x37, r[0x1e9] = 0x01, r[0x1ea] = 0x01;        /* CURRENT 1.55 build 55 */
	r[0x1ec] = 0x37, r[0x1ed] = 0x01, r[0x1ee] = 0x01;        /* COMMITTED */
	ebcc__put_le64(r + 0x1f0, tcb);                           /* LAUNCH_TCB */
	fake_pki_ecdsa_sign_raw(t->leaf_key, "SHA384", r, 0x2a0, r + 0x2a0, r + 0x2a0 + 72, 72,
				true);
	*ret = r;
	*ret_len = 0x4a0;
}

/* The certificate table as a host hands it over (snphost import writes ARK, ASK, then the VCEK
 * or VLEK, the certificates back to back after the table), in whole pages. */
static void snp_aux_template(struct fake_tsm *t)
{
	bool vlek = t->faults.snp_vlek;
	X509 *certs[3] = { t->root, t->ca, t->leaf };
	const uint8_t *guids[3] = { guid_ark, guid_ask, vlek ? guid_vlek : guid_vcek };
	uint8_t *der[3];
	size_t len[3], off = 4 * 24, total;

	free(t->aux_template);
	for (int i = 0; i < 3; i++)
		len[i] = fake_pki_cert_der(certs[i], &der[i]);
	total = off + len[0] + len[1] + len[2];
	total = (total + PAGE - 1) / PAGE * PAGE; /* the kernel hands whole pages */
	t->aux_template = xmalloc(total);
	t->aux_template_len = total;
	for (int i = 0; i < 3; i++) {
		memcpy(t->aux_template + 24 * i, guids[i], 16);
		ebcc__put_le32(t->aux_template + 24 * i + 16, (uint32_t)off);
		ebcc__put_le32(t->aux_template + 24 * i + 20, (uint32_t)len[i]);
		memcpy(t->aux_template + off, der[i], len[i]);
		off += len[i];
		free(der[i]);
	}
}

static bool same_leaf(const struct fake_tsm_faults *a, const struct fake_tsm_faults *b)
{
	return a->snp_chip == b->snp_chip && a->snp_vlek == b->snp_vlek &&
	       a->snp_cert_product == b->snp_cert_product &&
	       a->snp_cert_older_tcb == b->snp_cert_older_tcb &&
	       a->snp_cert_other_chip == b->snp_cert_other_chip &&
	       a->snp_cert_hwid_wrapped == b->snp_cert_hwid_wrapped &&
	       a->snp_cert_no_tcb == b->snp_cert_no_tcb;
}

/* The VCEK or VLEK as AMD's KDS issues it (see snp_tcb.h of the backend for the extensions):
 * productName, the SPLs of REPORTED_TCB as DER INTEGERs, hwID (VCEK) or csp_id (VLEK). */
static X509 *snp_leaf(struct fake_tsm *t)
{
	static const char *const products[] = { [FAKE_SNP_MILAN] = "Milan-B0",
						[FAKE_SNP_GENOA] = "Genoa-B1",
						[FAKE_SNP_TURIN] = "Turin-B0" };
	const struct fake_tsm_faults *f = &t->faults;
	uint64_t tcb = snp_tcb(t);
	bool turin = f->snp_chip == FAKE_SNP_TURIN;
	/* byte of each SPL in TCB_VERSION: bl, tee, snp, ucode, fmc */
	const int at[5] = { turin ? 1 : 0, turin ? 2 : 1, turin ? 3 : 6, 7, 0 };
	static const char *const oids[5] = { "1.3.6.1.4.1.3704.1.3.1", "1.3.6.1.4.1.3704.1.3.2",
					     "1.3.6.1.4.1.3704.1.3.3", "1.3.6.1.4.1.3704.1.3.8",
					     "1.3.6.1.4.1.3704.1.3.9" };
	const char *product = f->snp_cert_product != NULL ? f->snp_cert_product
							  : products[f->snp_chip];
	static const char csp[] = "CN=cc-test.example.com";
	uint8_t spl[5][4], name[34], hwid[2 + 64], csp_der[2 + sizeof(csp) - 1];
	struct fake_pki_ext ext[8];
	size_t n = 0;

	for (int i = 0; i < (turin ? 5 : 4); i++) {
		uint8_t v = (uint8_t)(tcb >> (8 * at[i]));

		if (i == 3 && f->snp_cert_older_tcb)
			v--;
		if (i == 3 && f->snp_cert_no_tcb)
			continue;
		/* DER INTEGER: a leading zero keeps values of 128 and more positive */
		spl[i][0] = 0x02;
		spl[i][1] = v >= 0x80 ? 2 : 1;
		spl[i][2] = v >= 0x80 ? 0 : v;
		spl[i][3] = v;
		ext[n++] = (struct fake_pki_ext){ oids[i], spl[i], (size_t)2 + spl[i][1] };
	}
	name[0] = 0x16; /* IA5String */
	name[1] = (uint8_t)strlen(product);
	memcpy(name + 2, product, name[1]);
	ext[n++] = (struct fake_pki_ext){ "1.3.6.1.4.1.3704.1.2", name, (size_t)2 + name[1] };
	if (f->snp_vlek) {
		csp_der[0] = 0x16;
		csp_der[1] = sizeof(csp) - 1;
		memcpy(csp_der + 2, csp, sizeof(csp) - 1);
		ext[n++] = (struct fake_pki_ext){ "1.3.6.1.4.1.3704.1.5", csp_der, sizeof(csp_der) };
	} else {
		size_t skip = f->snp_cert_hwid_wrapped ? 0 : 2;

		hwid[0] = 0x04; /* OCTET STRING of 64 */
		hwid[1] = 64;
		pattern(hwid + 2, 64, f->snp_cert_other_chip ? 0x98 : 0x99); /* CHIP_ID's */
		ext[n++] = (struct fake_pki_ext){ "1.3.6.1.4.1.3704.1.4", hwid + skip,
						  sizeof(hwid) - skip };
	}
	return fake_pki_cert_with(f->snp_vlek ? "Fake SEV-VLEK" : "Fake SEV-VCEK", t->leaf_key,
				  t->ca, t->ca_key, false, ext, n);
}

/* Reissues the VCEK/VLEK, the chain and the certificate table when the faults changed what
 * they must say. */
static void snp_refresh(struct fake_tsm *t)
{
	char *leaf_pem, *ca_pem;

	if (t->aux_template != NULL && same_leaf(&t->faults, &t->leaf_issued_for))
		return;
	X509_free(t->leaf);
	t->leaf = snp_leaf(t);
	leaf_pem = fake_pki_cert_pem(t->leaf);
	ca_pem = fake_pki_cert_pem(t->ca);
	free(t->chain_pem);
	t->chain_pem = concat3(ca_pem, leaf_pem, "");
	free(leaf_pem);
	free(ca_pem);
	snp_aux_template(t);
	t->leaf_issued_for = t->faults;
}

/* The provider's report_new(): a fresh report over the instance's inblob. */
static int report_new(struct fake_tsm *t, struct entry *e)
{
	uint8_t rd[64] = { 0 };

	if (t->faults.outblob_errno != 0)
		return -t->faults.outblob_errno;
	memcpy(rd, e->inblob, e->inblob_len);
	if (t->faults.foreign_report_data)
		rd[0] ^= 0xff;
	free(e->outblob);
	free(e->auxblob);
	e->outblob = e->auxblob = NULL;
	e->outblob_len = e->auxblob_len = 0;
	if (t->provider == FAKE_TSM_TDX) {
		tdx_quote(t, rd, &e->outblob, &e->outblob_len);
	} else {
		snp_refresh(t);
		snp_report(t, rd, &e->outblob, &e->outblob_len);
		e->auxblob_len = t->faults.no_certs ? PAGE : t->aux_template_len;
		e->auxblob = xmalloc(e->auxblob_len);
		if (!t->faults.no_certs)
			memcpy(e->auxblob, t->aux_template, e->auxblob_len);
	}
	if (t->faults.empty_outblob)
		e->outblob_len = 0;
	else if (t->faults.short_outblob > 0 && t->faults.short_outblob < e->outblob_len)
		e->outblob_len = t->faults.short_outblob;
	t->reports++;
	return 0;
}

/* tsm_report_read(): the cached report while the generation holds, else a new one. */
static int report_read(struct fake_tsm *t, struct entry *e)
{
	int r;

	if (e->inblob_len == 0)
		return -EINVAL;
	if (e->have_report && e->read_gen == e->write_gen)
		return 0;
	if (t->faults.races > 0) {
		/* Another process writes its inblob into this instance first. */
		t->faults.races--;
		memset(e->inblob, 0xee, TSM_INBLOB_MAX);
		e->inblob_len = TSM_INBLOB_MAX;
		e->write_gen++;
	}
	r = report_new(t, e);
	if (r < 0)
		return r;
	e->have_report = true;
	e->read_gen = e->write_gen;
	return 0;
}

/* ---- the file system ------------------------------------------------------------------------ */

static struct fd *fd_get(struct fake_tsm *t, int fd)
{
	if (fd < FAKE_FD_BASE || fd >= FAKE_FD_BASE + MAX_FDS)
		return NULL;
	return t->fds[fd - FAKE_FD_BASE].kind == FD_FREE ? NULL : &t->fds[fd - FAKE_FD_BASE];
}

static int fd_new(struct fake_tsm *t, enum fd_kind kind, int entry, enum attr attr, int flags)
{
	if (!(flags & O_CLOEXEC))
		t->no_cloexec++;
	for (int i = 0; i < MAX_FDS; i++) {
		if (t->fds[i].kind == FD_FREE) {
			memset(&t->fds[i], 0, sizeof(t->fds[i]));
			t->fds[i] = (struct fd){ .kind = kind, .entry = entry, .attr = attr,
						 .flags = flags };
			return FAKE_FD_BASE + i;
		}
	}
	return -EMFILE;
}

static int entry_find(struct fake_tsm *t, const char *name)
{
	for (int i = 0; i < MAX_ENTRIES; i++)
		if (t->entries[i].used && strcmp(t->entries[i].name, name) == 0)
			return i;
	return -1;
}

static bool attr_visible(struct fake_tsm *t, enum attr a)
{
	return !attrs[a].snp_only || t->provider == FAKE_TSM_SNP;
}

static int attr_open(struct fake_tsm *t, int entry, const char *name, int flags)
{
	int mode = flags & O_ACCMODE;

	for (int a = 0; a < A_COUNT; a++) {
		if (strcmp(attrs[a].name, name) != 0 || !attr_visible(t, (enum attr)a))
			continue;
		if (flags & O_DIRECTORY)
			return -ENOTDIR;
		if ((mode != O_WRONLY && !attrs[a].readable) ||
		    (mode != O_RDONLY && !attrs[a].writable))
			return -EACCES;
		return fd_new(t, FD_ATTR, entry, (enum attr)a, flags);
	}
	return -ENOENT;
}

/* Splits an absolute path into what this fake serves: 0 for a directory it knows (entry -1, or
 * the instance), 1 for an attribute of an instance (*attr_name set), -errno otherwise. */
static int lookup(struct fake_tsm *t, const char *path, int *ret_entry, const char **attr_name)
{
	size_t n = strlen(REPORT_DIR);
	const char *rest, *slash;
	char name[256];
	int e;

	*ret_entry = -1;
	*attr_name = NULL;
	if (t->faults.unmounted && strncmp(path, CONFIG_DIR, strlen(CONFIG_DIR)) == 0)
		return -ENOENT;
	if (strcmp(path, CONFIG_DIR) == 0 || strcmp(path, TSM_DIR) == 0 ||
	    strcmp(path, REPORT_DIR) == 0)
		return 0;
	if (strncmp(path, REPORT_DIR "/", n + 1) != 0)
		return -ENOENT;
	rest = path + n + 1;
	slash = strchr(rest, '/');
	if ((slash != NULL ? (size_t)(slash - rest) : strlen(rest)) >= sizeof(name))
		return -ENAMETOOLONG;
	snprintf(name, sizeof(name), "%.*s", slash != NULL ? (int)(slash - rest) : (int)strlen(rest),
		 rest);
	e = entry_find(t, name);
	if (e < 0)
		return -ENOENT;
	*ret_entry = e;
	if (slash == NULL)
		return 0;
	*attr_name = slash + 1;
	return 1;
}

static int f_open(const char *path, int flags, mode_t mode, void *userdata)
{
	struct fake_tsm *t = userdata;
	const char *attr;
	int entry, r;

	(void)mode;
	if (path[0] != '/')
		return -EINVAL;
	r = lookup(t, path, &entry, &attr);
	if (r < 0)
		return r;
	if (r == 1)
		return attr_open(t, entry, attr, flags);
	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EISDIR;
	return fd_new(t, entry >= 0 ? FD_ENTRY_DIR : FD_DIR, entry, A_COUNT, flags);
}

static int f_openat(int dir_fd, const char *name, int flags, mode_t mode, void *userdata)
{
	struct fake_tsm *t = userdata;
	struct fd *d = fd_get(t, dir_fd);

	(void)mode;
	if (d == NULL)
		return -EBADF;
	if (d->kind != FD_ENTRY_DIR)
		return d->kind == FD_ATTR ? -ENOTDIR : -ENOENT;
	if (strchr(name, '/') != NULL)
		return -ENOENT;
	return attr_open(t, d->entry, name, flags);
}

static void commit(struct fake_tsm *t, struct fd *f)
{
	struct entry *e = &t->entries[f->entry];

	if (f->attr != A_INBLOB || !f->written)
		return;
	/* try_advance_write_generation(): its EBUSY is lost at release, as in configfs. */
	if (e->write_gen == e->read_gen - 1)
		return;
	e->write_gen++;
	memcpy(e->inblob, f->wbuf, f->wlen);
	e->inblob_len = f->wlen;
}

static int f_close(int fd, void *userdata)
{
	struct fake_tsm *t = userdata;
	struct fd *f = fd_get(t, fd);

	if (f == NULL)
		return -EBADF;
	if (f->kind == FD_ATTR && t->entries[f->entry].used)
		commit(t, f);
	free(f->data);
	memset(f, 0, sizeof(*f));
	return 0;
}

/* The first read of an attribute fixes what the descriptor reads (configfs' buffer). */
static int fill(struct fake_tsm *t, struct fd *f)
{
	struct entry *e = &t->entries[f->entry];
	char text[64];
	int r;

	if (f->filled)
		return 0;
	switch (f->attr) {
	case A_PROVIDER:
		snprintf(text, sizeof(text), "%s\n",
			 t->faults.provider_name != NULL	 ? t->faults.provider_name
			 : t->provider == FAKE_TSM_TDX ? "tdx_guest"
						       : "sev_guest");
		break;
	case A_GENERATION:
		snprintf(text, sizeof(text), "%lu\n", e->write_gen);
		break;
	case A_PRIVLEVEL_FLOOR:
		snprintf(text, sizeof(text), "0\n");
		break;
	case A_OUTBLOB:
	case A_AUXBLOB:
		r = report_read(t, e);
		if (r < 0)
			return r;
		f->len = f->attr == A_OUTBLOB ? e->outblob_len : e->auxblob_len;
		f->data = xmalloc(f->len);
		memcpy(f->data, f->attr == A_OUTBLOB ? e->outblob : e->auxblob, f->len);
		f->filled = true;
		return 0;
	default:
		return -EINVAL;
	}
	f->len = strlen(text);
	f->data = xmalloc(f->len);
	memcpy(f->data, text, f->len);
	f->filled = true;
	return 0;
}

static ssize_t read_at(struct fake_tsm *t, int fd, void *buf, size_t len, size_t off, bool advance)
{
	struct fd *f = fd_get(t, fd);
	size_t n;
	int r;

	if (f == NULL)
		return -EBADF;
	if (f->kind != FD_ATTR)
		return -EISDIR;
	if ((f->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (!t->entries[f->entry].used)
		return -ENODEV;
	r = fill(t, f);
	if (r < 0)
		return r;
	if (off >= f->len)
		return 0;
	n = f->len - off < len ? f->len - off : len;
	memcpy(buf, f->data + off, n);
	if (advance)
		f->pos = off + n;
	return (ssize_t)n;
}

static ssize_t f_read(int fd, void *buf, size_t len, void *userdata)
{
	struct fake_tsm *t = userdata;
	struct fd *f = fd_get(t, fd);

	return read_at(t, fd, buf, len, f != NULL ? f->pos : 0, true);
}

static ssize_t f_pread(int fd, void *buf, size_t len, off_t off, void *userdata)
{
	if (off < 0)
		return -EINVAL;
	return read_at(userdata, fd, buf, len, (size_t)off, false);
}

static ssize_t f_write(int fd, const void *buf, size_t len, void *userdata)
{
	struct fake_tsm *t = userdata;
	struct fd *f = fd_get(t, fd);
	size_t max = t->faults.inblob_max > 0 ? t->faults.inblob_max : TSM_INBLOB_MAX;

	if (f == NULL)
		return -EBADF;
	if (f->kind != FD_ATTR)
		return -EISDIR;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (f->attr == A_PRIVLEVEL)
		return len == 2 && memcmp(buf, "0\n", 2) == 0 ? (ssize_t)len : -EINVAL;
	if (f->wlen + len > max)
		return -EFBIG; /* configfs: beyond the attribute's cb_max_size */
	memcpy(f->wbuf + f->wlen, buf, len);
	f->wlen += len;
	f->written = true;
	return (ssize_t)len;
}

static int f_ioctl(int fd, unsigned long request, void *arg, void *userdata)
{
	(void)request;
	(void)arg;
	return fd_get(userdata, fd) != NULL ? -ENOTTY : -EBADF;
}

static int f_mkdir(const char *path, mode_t mode, void *userdata)
{
	struct fake_tsm *t = userdata;
	size_t n = strlen(REPORT_DIR);
	const char *name;

	(void)mode;
	if (t->faults.unmounted && strncmp(path, CONFIG_DIR, strlen(CONFIG_DIR)) == 0)
		return -ENOENT;
	if (strncmp(path, REPORT_DIR "/", n + 1) != 0)
		return strncmp(path, CONFIG_DIR, strlen(CONFIG_DIR)) == 0 ? -EPERM : -ENOENT;
	name = path + n + 1;
	if (name[0] == '\0' || strchr(name, '/') != NULL)
		return -ENOENT;
	if (strlen(name) >= sizeof(t->entries[0].name))
		return -ENAMETOOLONG;
	if (entry_find(t, name) >= 0)
		return -EEXIST;
	if (t->provider == FAKE_TSM_NONE)
		return -ENXIO; /* tsm_report_make_item() without provider.ops */
	if (t->faults.mkdir_errno != 0)
		return -t->faults.mkdir_errno;
	for (int i = 0; i < MAX_ENTRIES; i++) {
		if (!t->entries[i].used) {
			memset(&t->entries[i], 0, sizeof(t->entries[i]));
			t->entries[i].used = true;
			snprintf(t->entries[i].name, sizeof(t->entries[i].name), "%s", name);
			t->mkdirs++;
			return 0;
		}
	}
	return -ENOMEM;
}

static int f_mkdirat(int dir_fd, const char *name, mode_t mode, void *userdata)
{
	struct fake_tsm *t = userdata;
	struct fd *d = fd_get(t, dir_fd);
	char path[512];

	if (d == NULL)
		return -EBADF;
	if (d->kind != FD_DIR)
		return -EPERM;
	snprintf(path, sizeof(path), "%s/%s", REPORT_DIR, name);
	return f_mkdir(path, mode, userdata);
}

static int f_rmdir(const char *path, void *userdata)
{
	struct fake_tsm *t = userdata;
	const char *attr;
	int entry, r = lookup(t, path, &entry, &attr);

	if (r < 0)
		return r;
	if (r == 1)
		return -ENOTDIR;
	if (entry < 0)
		return -EPERM;
	if (t->faults.rmdir_errno != 0)
		return -t->faults.rmdir_errno;
	free(t->entries[entry].outblob);
	free(t->entries[entry].auxblob);
	memset(&t->entries[entry], 0, sizeof(t->entries[entry]));
	return 0;
}

static int f_mmap(size_t len, int prot, int flags, int fd, off_t offset, void **ret_addr,
		  void *userdata)
{
	(void)len;
	(void)prot;
	(void)flags;
	(void)offset;
	(void)ret_addr;
	return fd_get(userdata, fd) != NULL ? -ENODEV : -EBADF;
}

static int f_munmap(void *addr, size_t len, void *userdata)
{
	(void)addr;
	(void)len;
	(void)userdata;
	return -EINVAL;
}

/* ---- setup ----------------------------------------------------------------------------------- */

static void make_keys(struct fake_tsm *t)
{
	const char *group = t->provider == FAKE_TSM_TDX ? "P-256" : "P-384";
	char *leaf_pem, *ca_pem;

	t->root_key = fake_pki_ec_key(group);
	t->ca_key = fake_pki_ec_key(group);
	t->leaf_key = fake_pki_ec_key(group);
	if (t->provider == FAKE_TSM_TDX) {
		t->att_key = fake_pki_ec_key("P-256");
		t->root = fake_pki_cert("Fake Intel SGX Root CA", t->root_key, NULL, NULL, true);
		t->ca = fake_pki_cert("Fake Intel SGX PCK Platform CA", t->ca_key, t->root,
				      t->root_key, true);
		t->leaf = fake_pki_cert("Fake Intel SGX PCK Certificate", t->leaf_key, t->ca,
					t->ca_key, false);
	} else {
		t->root = fake_pki_cert("Fake ARK-Milan", t->root_key, NULL, NULL, true);
		t->ca = fake_pki_cert("Fake SEV-Milan", t->ca_key, t->root, t->root_key, true);
		t->leaf = fake_pki_cert("Fake SEV-VCEK", t->leaf_key, t->ca, t->ca_key, false);
	}
	t->root_pem = fake_pki_cert_pem(t->root);
	t->signer_key_pem = fake_pki_pubkey_pem(t->leaf_key);
	leaf_pem = fake_pki_cert_pem(t->leaf);
	ca_pem = fake_pki_cert_pem(t->ca);
	t->pck_chain_pem = concat3(leaf_pem, ca_pem, t->root_pem);
	t->chain_pem = concat3(ca_pem, leaf_pem, "");
	free(leaf_pem);
	free(ca_pem);
	if (t->provider == FAKE_TSM_SNP)
		snp_refresh(t);
}

struct fake_tsm *fake_tsm_new(enum fake_tsm_provider provider)
{
	struct fake_tsm *t = xmalloc(sizeof(*t));

	t->provider = provider;
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
	if (EVP_Digest("fake launch measurement", 23, t->measurement, NULL, EVP_sha384(),
		       NULL) != 1)
		abort();
	for (int i = 0; i < 48; i++)
		snprintf(t->measurement_hex + 2 * i, 3, "%02x", t->measurement[i]);
	if (provider != FAKE_TSM_NONE)
		make_keys(t);
	return t;
}

void fake_tsm_free(struct fake_tsm *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < MAX_FDS; i++)
		free(t->fds[i].data);
	for (int i = 0; i < MAX_ENTRIES; i++) {
		free(t->entries[i].outblob);
		free(t->entries[i].auxblob);
	}
	EVP_PKEY_free(t->root_key);
	EVP_PKEY_free(t->ca_key);
	EVP_PKEY_free(t->leaf_key);
	EVP_PKEY_free(t->att_key);
	X509_free(t->root);
	X509_free(t->ca);
	X509_free(t->leaf);
	free(t->root_pem);
	free(t->signer_key_pem);
	free(t->chain_pem);
	free(t->pck_chain_pem);
	free(t->aux_template);
	free(t);
}

const struct ebcc__hostops *fake_tsm_host(struct fake_tsm *t)
{
	return &t->ops;
}

struct fake_tsm_faults *fake_tsm_faults(struct fake_tsm *t)
{
	return &t->faults;
}

const char *fake_tsm_root_pem(struct fake_tsm *t)
{
	return t->root_pem;
}

const char *fake_tsm_signer_key_pem(struct fake_tsm *t)
{
	return t->signer_key_pem;
}

const char *fake_tsm_chain_pem(struct fake_tsm *t)
{
	if (t->provider == FAKE_TSM_SNP)
		snp_refresh(t);
	return t->chain_pem;
}

const uint8_t *fake_tsm_launch_measurement(struct fake_tsm *t)
{
	return t->measurement;
}

char *fake_tsm_crl_pem(struct fake_tsm *t, bool revoke_ca, long this_update, long next_update,
		       bool forged)
{
	EVP_PKEY *key = forged ? fake_pki_ec_key(t->provider == FAKE_TSM_TDX ? "P-256" : "P-384")
			       : t->root_key;
	char *pem = fake_pki_crl_pem(t->root, key, &t->ca, revoke_ca ? 1 : 0, this_update,
				     next_update);

	if (forged)
		EVP_PKEY_free(key);
	return pem;
}

const char *fake_tsm_launch_measurement_hex(struct fake_tsm *t)
{
	return t->measurement_hex;
}

unsigned fake_tsm_entries(struct fake_tsm *t)
{
	unsigned n = 0;

	for (int i = 0; i < MAX_ENTRIES; i++)
		n += t->entries[i].used;
	return n;
}

unsigned fake_tsm_mkdirs(struct fake_tsm *t)
{
	return t->mkdirs;
}

unsigned fake_tsm_reports(struct fake_tsm *t)
{
	return t->reports;
}

unsigned fake_tsm_open_fds(struct fake_tsm *t)
{
	unsigned n = 0;

	for (int i = 0; i < MAX_FDS; i++)
		n += t->fds[i].kind != FD_FREE;
	return n;
}

unsigned fake_tsm_opens_without_cloexec(struct fake_tsm *t)
{
	return t->no_cloexec;
}
