/* SPDX-License-Identifier: MIT */
/* SEV-SNP attestation reports and the certificate table of their auxblob (layout in snp.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "bytes.h"
#include "crl.h"
#include "crypto.h"
#include "ebcc-base.h"
#include "snp.h"
#include "snp_tcb.h"

#define WHAT "SEV-SNP report"
#define ENTRY_SIZE 24

static const uint8_t guid_vcek[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
				       0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
static const uint8_t guid_vlek[16] = { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
				       0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1 };
static const uint8_t guid_ask[16] = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
				      0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };
static const uint8_t guid_ark[16] = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
				      0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae };

const char *ebcc__snp_product_name(enum ebcc__snp_product p)
{
	switch (p) {
	case EBCC_SNP_PRODUCT_MILAN:
		return "Milan";
	case EBCC_SNP_PRODUCT_GENOA:
		return "Genoa";
	case EBCC_SNP_PRODUCT_TURIN:
		return "Turin";
	case EBCC_SNP_PRODUCT_OTHER:
		return "other";
	default:
		return "unknown";
	}
}

void ebcc__snp_tcb_decode(uint64_t tcb, enum ebcc__snp_product p, struct ebcc__snp_tcb *ret)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(tcb >> (8 * i));
	if (p == EBCC_SNP_PRODUCT_TURIN)
		*ret = (struct ebcc__snp_tcb){ .fmc = b[0], .bootloader = b[1], .tee = b[2],
					       .snp = b[3], .microcode = b[7] };
	else
		*ret = (struct ebcc__snp_tcb){ .bootloader = b[0], .tee = b[1], .snp = b[6],
					       .microcode = b[7] };
}

/* The product from CPUID family and model (AMD's family 19h models 00h-0Fh Milan, 10h-1Fh and
 * A0h-AFh Genoa, Bergamo, Siena; family 1Ah models 00h-1Fh Turin). */
static enum ebcc__snp_product product_of(uint8_t family, uint8_t model)
{
	if (family == 0x19 && model <= 0x0f)
		return EBCC_SNP_PRODUCT_MILAN;
	if (family == 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)))
		return EBCC_SNP_PRODUCT_GENOA;
	if (family == 0x1a && model <= 0x1f)
		return EBCC_SNP_PRODUCT_TURIN;
	return EBCC_SNP_PRODUCT_OTHER;
}

int ebcc__snp_report_parse(const uint8_t *data, size_t len, int err,
			   struct ebcc__snp_report *ret)
{
	struct ebcc__snp_report r = { .raw = data };

	if (data == NULL || len == 0)
		return ebcc__error(err, WHAT " is empty");
	if (len != EBCC_SNP_REPORT_SIZE)
		return ebcc__error(err, WHAT " of %zu bytes: an ATTESTATION_REPORT is %d bytes%s", len,
				   EBCC_SNP_REPORT_SIZE, len < EBCC_SNP_REPORT_SIZE ? " (short)" : "");
	r.version = ebcc__le32(data);
	r.guest_svn = ebcc__le32(data + 0x04);
	r.policy = ebcc__le64(data + 0x08);
	r.vmpl = ebcc__le32(data + 0x30);
	r.sig_algo = ebcc__le32(data + 0x34);
	r.current_tcb = ebcc__le64(data + 0x38);
	r.platform_info = ebcc__le64(data + 0x40);
	r.platform_flags = ebcc__le32(data + 0x48);
	r.signing_key = (r.platform_flags >> 2) & 7;
	r.chip_id = data + 0x1a0;
	r.committed_tcb = ebcc__le64(data + 0x1e0);
	for (int i = 0; i < 3; i++) {
		r.current_version[i] = data[0x1e8 + 2 - i];
		r.committed_version[i] = data[0x1ec + 2 - i];
	}
	r.launch_tcb = ebcc__le64(data + 0x1f0);
	if (r.version >= 3) {
		r.cpuid_family = data[0x188];
		r.cpuid_model = data[0x189];
		r.cpuid_stepping = data[0x18a];
		r.product = product_of(r.cpuid_family, r.cpuid_model);
	}
	r.report_data = data + EBCC_SNP_REPORT_DATA;
	r.measurement = data + EBCC_SNP_MEASUREMENT;
	r.host_data = data + 0xc0;
	r.reported_tcb = ebcc__le64(data + 0x180);
	r.sig_r = data + EBCC_SNP_SIGNED_SIZE;
	r.sig_s = data + EBCC_SNP_SIGNED_SIZE + EBCC_SNP_SIG_COMPONENT;
	for (size_t i = EBCC_SNP_SIGNED_SIZE + 2 * EBCC_SNP_SIG_COMPONENT; i < EBCC_SNP_REPORT_SIZE; i++)
		if (data[i] != 0)
			return ebcc__error(err, WHAT ": reserved byte 0x%zx of the signature is not "
					   "zero", i);
	if (r.version < 2)
		return ebcc__error(err, WHAT ": version %" PRIu32 ", at least 2 is understood",
				   r.version);
	if (r.signing_key != EBCC_SNP_SIGNING_KEY_VCEK && r.signing_key != EBCC_SNP_SIGNING_KEY_VLEK &&
	    r.signing_key != EBCC_SNP_SIGNING_KEY_NONE)
		return ebcc__error(err, WHAT ": SIGNING_KEY %" PRIu32 " is reserved", r.signing_key);
	*ret = r;
	return 0;
}

void ebcc__snp_certs_clear(struct ebcc__snp_certs *c)
{
	X509_free(c->vcek);
	X509_free(c->vlek);
	X509_free(c->ask);
	X509_free(c->ark);
	*c = (struct ebcc__snp_certs){ 0 };
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* The certificates this backend knows, in the order a canonical table holds them. */
static const struct {
	const uint8_t *guid;
	const char *name;
} known[] = {
	{ guid_vcek, "VCEK" },
	{ guid_vlek, "VLEK" },
	{ guid_ask, "ASK" },
	{ guid_ark, "ARK" },
};

static int known_index(const uint8_t *guid)
{
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(known); i++)
		if (memcmp(guid, known[i].guid, 16) == 0)
			return (int)i;
	return -1;
}

/* Walks a table as the host wrote it: the number of entries before the terminator, or err. */
static int table_walk(const uint8_t *aux, size_t len, int err, size_t *ret_entries)
{
	size_t n = 0;

	for (;;) {
		const uint8_t *e = aux + n * ENTRY_SIZE;
		uint32_t off, size;

		if ((n + 1) * ENTRY_SIZE > len)
			return ebcc__error(err, WHAT " auxblob: the certificate table of %zu bytes "
					   "has no terminating all-zero entry", len);
		if (all_zero(e, ENTRY_SIZE))
			break;
		if (n == EBCC_SNP_CERT_ENTRIES_MAX)
			return ebcc__error(err, WHAT " auxblob: more than %d certificate table "
					   "entries", EBCC_SNP_CERT_ENTRIES_MAX);
		off = ebcc__le32(e + 16);
		size = ebcc__le32(e + 20);
		if (size == 0 || off > len || size > len - off)
			return ebcc__error(err, WHAT " auxblob: certificate table entry %zu points at "
					   "%" PRIu32 " bytes at offset %" PRIu32 ", outside the %zu "
					   "bytes", n, size, off, len);
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t off = ebcc__le32(aux + i * ENTRY_SIZE + 16);

		if (off < (n + 1) * ENTRY_SIZE)
			return ebcc__error(err, WHAT " auxblob: certificate table entry %zu points "
					   "at offset %" PRIu32 ", inside the table of %zu entries",
					   i, off, n);
	}
	*ret_entries = n;
	return 0;
}

int ebcc__snp_certs_canonical(const uint8_t *aux, size_t len, uint8_t **ret, size_t *ret_len)
{
	const uint8_t *cert[EBCC_ARRAY_SIZE(known)] = { NULL };
	uint32_t size[EBCC_ARRAY_SIZE(known)] = { 0 };
	size_t n = 0, entries = 0, total, off;
	uint8_t *out, *p;
	int r;

	*ret = NULL;
	*ret_len = 0;
	if (aux == NULL || len == 0 || all_zero(aux, len))
		return 0;
	r = table_walk(aux, len, EBCC_ERR_BACKEND, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		int k = known_index(aux + i * ENTRY_SIZE);

		if (k < 0 || cert[k] != NULL)
			continue; /* not ours, or a repeat: the first one counts */
		cert[k] = aux + ebcc__le32(aux + i * ENTRY_SIZE + 16);
		size[k] = ebcc__le32(aux + i * ENTRY_SIZE + 20);
		entries++;
	}
	if (entries == 0)
		return 0;
	total = (entries + 1) * ENTRY_SIZE;
	for (size_t k = 0; k < EBCC_ARRAY_SIZE(known); k++)
		total += size[k];
	out = calloc(1, total);
	if (out == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	p = out;
	off = (entries + 1) * ENTRY_SIZE;
	for (size_t k = 0; k < EBCC_ARRAY_SIZE(known); k++) {
		if (cert[k] == NULL)
			continue;
		memcpy(p, known[k].guid, 16);
		ebcc__put_le32(p + 16, (uint32_t)off);
		ebcc__put_le32(p + 20, size[k]);
		memcpy(out + off, cert[k], size[k]);
		off += size[k];
		p += ENTRY_SIZE;
	}
	*ret = out;
	*ret_len = total;
	return 0;
}

int ebcc__snp_certs_parse(const uint8_t *aux, size_t len, int err, struct ebcc__snp_certs *ret)
{
	struct ebcc__snp_certs c = { 0 };
	X509 **slots[EBCC_ARRAY_SIZE(known)] = { &c.vcek, &c.vlek, &c.ask, &c.ark };
	size_t n = 0, next;
	int last = -1, r;

	*ret = c;
	if (len == 0)
		return 0;
	r = table_walk(aux, len, err, &n);
	if (r < 0)
		return r;
	next = (n + 1) * ENTRY_SIZE;
	for (size_t i = 0; i < n && r == 0; i++) {
		const uint8_t *e = aux + i * ENTRY_SIZE;
		int k = known_index(e);
		char what[96];

		/* Canonical: known GUIDs in order, certificates back to back after the table. */
		if (k <= last)
			r = ebcc__error(err, WHAT " auxblob: certificate table entry %zu is %s", i,
					k < 0 ? "of an unknown GUID" : "out of order or repeated");
		else if (ebcc__le32(e + 16) != next)
			r = ebcc__error(err, WHAT " auxblob: certificate table entry %zu is at offset "
					"%" PRIu32 ", not %zu", i, ebcc__le32(e + 16), next);
		if (r < 0)
			break;
		last = k;
		snprintf(what, sizeof(what), WHAT " auxblob: the %s certificate (entry %zu)",
			 known[k].name, i);
		r = ebcc__x509_from_der(aux + next, ebcc__le32(e + 20), what, err, slots[k]);
		next += ebcc__le32(e + 20);
	}
	if (r == 0 && next != len)
		r = ebcc__error(err, WHAT " auxblob: %zu bytes follow the last certificate",
				len - next);
	if (r < 0) {
		ebcc__snp_certs_clear(&c);
		return r;
	}
	*ret = c;
	return 0;
}

/* ---- the signature ------------------------------------------------------------------------- */

static int verify_with(const struct ebcc__snp_report *rep, EVP_PKEY *key)
{
	return ebcc__ecdsa_verify_raw(key, "SHA384", rep->raw, EBCC_SNP_SIGNED_SIZE, rep->sig_r,
				      rep->sig_s, EBCC_SNP_SIG_COMPONENT, true);
}

/* The endorsement certificate: a non-CA certificate of the policy's snp_certs, else the
 * auxblob's VCEK or VLEK as SIGNING_KEY says. */
static X509 *endorsement(const struct ebcc__snp_report *rep, const struct ebcc__snp_certs *c,
			 const struct ebcc__tsm_policy *p)
{
	for (int i = 0; p->snp_certs != NULL && i < sk_X509_num(p->snp_certs); i++)
		if (X509_check_ca(sk_X509_value(p->snp_certs, i)) == 0)
			return sk_X509_value(p->snp_certs, i);
	return rep->signing_key == EBCC_SNP_SIGNING_KEY_VLEK ? c->vlek : c->vcek;
}

static int verify_pinned(const struct ebcc__snp_report *rep, const struct ebcc__tsm_policy *p,
			 const char *key_name, struct ebcc__tsm_signature *ret)
{
	for (size_t i = 0; i < p->n_keys; i++) {
		int ok;

		if (!ebcc__ec_key_is(p->keys[i], "P-384"))
			continue;
		ok = verify_with(rep, p->keys[i]);
		if (ok < 0)
			return ok;
		if (ok) {
			ret->verified = true;
			snprintf(ret->detail, sizeof(ret->detail),
				 "verified: the report is signed by trusted_keys[%zu] (the %s)", i,
				 key_name);
			return 0;
		}
	}
	return ebcc__error(EBCC_ERR_VERIFY, WHAT ": the signature does not verify with any of the "
			   "%zu trusted_keys, and no %s certificate is at hand (auxblob or "
			   "backend_options.tsm.snp_certs)",
			   p->n_keys, key_name);
}

/* The certificates of a verified chain that its ARK issued (the ASK or ASVK) against the
 * policy's snp_crl: AMD's KDS publishes one CRL per product line, signed by the ARK. */
static int revocation(X509 *leaf, STACK_OF(X509) *untrusted, X509 *ark,
		      const struct ebcc__tsm_policy *p, struct ebcc__tsm_signature *ret)
{
	X509 *certs[EBCC_SNP_CERT_ENTRIES_MAX + 1] = { leaf };
	size_t n = 1;

	for (int i = 0; i < sk_X509_num(untrusted) && n < EBCC_ARRAY_SIZE(certs); i++)
		certs[n++] = sk_X509_value(untrusted, i);
	return ebcc__crl_check(p->snp_crls, ark, certs, n, ebcc__tsm_policy_time(p),
			       WHAT ": backend_options.tsm.snp_crl", ret->revocation,
			       sizeof(ret->revocation));
}

static int trust_endorsement(X509 *cert, EVP_PKEY *key, const char *key_name,
			     const struct ebcc__snp_certs *c, const struct ebcc__tsm_policy *p,
			     struct ebcc__tsm_signature *ret)
{
	char name[128];
	X509 *top = NULL;
	int r;

	ebcc__x509_name(cert, name, sizeof(name));
	snprintf(ret->signer, sizeof(ret->signer), "%s", name);
	if (p->snp_roots != NULL) {
		STACK_OF(X509) *untrusted = sk_X509_new_null();
		char what[64];

		if (untrusted == NULL)
			return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		for (int i = 0; p->snp_certs != NULL && i < sk_X509_num(p->snp_certs); i++)
			sk_X509_push(untrusted, sk_X509_value(p->snp_certs, i));
		if (c->ask != NULL)
			sk_X509_push(untrusted, c->ask);
		snprintf(what, sizeof(what), WHAT ": the %s certificate chain", key_name);
		r = ebcc__x509_chain_verify(cert, untrusted, p->snp_roots, ebcc__tsm_policy_time(p),
					    what, &top);
		if (r == 0 && p->snp_crls != NULL)
			r = revocation(cert, untrusted, top, p, ret);
		sk_X509_free(untrusted);
		if (r < 0) {
			X509_free(top);
			return r;
		}
		ebcc__x509_name(top, ret->root, sizeof(ret->root));
		ebcc__x509_sha256_hex(top, ret->root_sha256);
		X509_free(top);
		if (c->ark != NULL) {
			bool is_anchor = false;

			for (int i = 0; i < sk_X509_num(p->snp_roots) && !is_anchor; i++)
				is_anchor = X509_cmp(c->ark, sk_X509_value(p->snp_roots, i)) == 0;
			if (!is_anchor)
				return ebcc__error(EBCC_ERR_VERIFY, WHAT " auxblob: its ARK is not "
						   "the policy's snp_ark");
		}
		ret->verified = true;
		snprintf(ret->detail, sizeof(ret->detail),
			 "verified: the report is signed by the %s \"%s\", which chains to the "
			 "policy's snp_ark (\"%s\")",
			 key_name, name, ret->root);
		return 0;
	}
	if (p->n_keys > 0) {
		for (size_t i = 0; i < p->n_keys; i++) {
			if (ebcc__pkey_equal(p->keys[i], key)) {
				ret->verified = true;
				snprintf(ret->detail, sizeof(ret->detail),
					 "verified: the report is signed by the %s \"%s\", whose key "
					 "is trusted_keys[%zu]",
					 key_name, name, i);
				return 0;
			}
		}
		return ebcc__error(EBCC_ERR_VERIFY,
				   WHAT ": none of the %zu trusted_keys is the key of the %s "
				   "\"%s\", and the policy gives no backend_options.tsm.snp_ark",
				   p->n_keys, key_name, name);
	}
	ret->verified = false;
	snprintf(ret->detail, sizeof(ret->detail),
		 "not verified: no certificate chain (backend_options.tsm.snp_ark) or key "
		 "(trusted_keys) in the policy; the signature verifies with the %s \"%s\" the "
		 "report came with, but nothing ties that certificate to AMD",
		 key_name, name);
	return 0;
}

int ebcc__snp_report_verify(const struct ebcc__snp_report *rep, const uint8_t *aux,
			    size_t aux_len, const struct ebcc__tsm_policy *p,
			    struct ebcc__tsm_signature *ret, struct ebcc__snp_endorsement *ret_e)
{
	const char *key_name = rep->signing_key == EBCC_SNP_SIGNING_KEY_VLEK ? "VLEK" : "VCEK";
	struct ebcc__snp_certs c = { 0 };
	EVP_PKEY *key = NULL;
	char name[128];
	X509 *cert;
	int r, ok;

	*ret_e = (struct ebcc__snp_endorsement){ 0 };
	if (rep->signing_key == EBCC_SNP_SIGNING_KEY_NONE) {
		if (ebcc__tsm_policy_has_trust(p, EBCC_TSM_PROVIDER_SNP))
			return ebcc__error(EBCC_ERR_VERIFY, WHAT ": the report is unsigned "
					   "(SIGNING_KEY 7), but the policy expects a signature");
		ret->verified = false;
		snprintf(ret->detail, sizeof(ret->detail),
			 "not verified: the report is unsigned (SIGNING_KEY 7: no key)");
		return 0;
	}
	if (rep->sig_algo != EBCC_SNP_SIG_ALGO_ECDSA_P384_SHA384)
		return ebcc__error(EBCC_ERR_VERIFY, WHAT ": signature algorithm %" PRIu32 ", only %d "
				   "(ECDSA P-384 with SHA-384) is understood",
				   rep->sig_algo, EBCC_SNP_SIG_ALGO_ECDSA_P384_SHA384);
	r = ebcc__snp_certs_parse(aux, aux_len, EBCC_ERR_VERIFY, &c);
	if (r < 0)
		return r;
	if ((rep->signing_key == EBCC_SNP_SIGNING_KEY_VCEK && c.vlek != NULL) ||
	    (rep->signing_key == EBCC_SNP_SIGNING_KEY_VLEK && c.vcek != NULL)) {
		r = ebcc__error(EBCC_ERR_VERIFY, WHAT " auxblob: it carries a %s the report is not "
				"signed with", rep->signing_key == EBCC_SNP_SIGNING_KEY_VCEK ? "VLEK"
											 : "VCEK");
		goto out;
	}
	cert = endorsement(rep, &c, p);
	if (cert == NULL) {
		if (p->n_keys > 0) {
			r = verify_pinned(rep, p, key_name, ret);
		} else {
			ret->verified = false;
			snprintf(ret->detail, sizeof(ret->detail),
				 "not verified: no %s certificate (neither the report's auxblob "
				 "nor backend_options.tsm.snp_certs carries one) and no trusted_keys",
				 key_name);
		}
		goto out;
	}
	ebcc__x509_name(cert, name, sizeof(name));
	key = X509_get_pubkey(cert);
	if (key == NULL || !ebcc__ec_key_is(key, "P-384")) {
		r = ebcc__error(EBCC_ERR_VERIFY, WHAT ": the %s certificate \"%s\" has no ECDSA "
				"P-384 key", key_name, name);
		goto out;
	}
	ok = verify_with(rep, key);
	if (ok <= 0) {
		r = ok < 0 ? ok : ebcc__error(EBCC_ERR_VERIFY,
					      WHAT ": the signature does not verify with the %s "
					      "certificate \"%s\" (report changed?)",
					      key_name, name);
		goto out;
	}
	r = trust_endorsement(cert, key, key_name, &c, p, ret);
	/* Only a certificate that chains to the policy's ARK speaks for AMD about the TCB. */
	if (r == 0 && ret->root[0] != '\0')
		r = ebcc__snp_endorsement_parse(cert, key_name, ret_e);
	if (r == 0 && ret_e->present)
		r = ebcc__snp_endorsement_check(rep, ret_e, ret->root);
out:
	EVP_PKEY_free(key);
	ebcc__snp_certs_clear(&c);
	return r;
}
