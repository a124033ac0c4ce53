/* SPDX-License-Identifier: MIT */
/* SEV-SNP TCB: the signer certificate's extensions and the checks on them (snp_tcb.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "ebcc-base.h"
#include "snp_tcb.h"

#define ERR EBCC_ERR_VERIFY
#define AMD_OID "1.3.6.1.4.1.3704.1"

enum { SPL_BL, SPL_TEE, SPL_SNP, SPL_UCODE, SPL_FMC, SPL_COUNT };

static const struct {
	const char *oid, *name;
} spls[SPL_COUNT] = {
	[SPL_BL] = { AMD_OID ".3.1", "blSPL" },	  [SPL_TEE] = { AMD_OID ".3.2", "teeSPL" },
	[SPL_SNP] = { AMD_OID ".3.3", "snpSPL" }, [SPL_UCODE] = { AMD_OID ".3.8", "ucodeSPL" },
	[SPL_FMC] = { AMD_OID ".3.9", "fmcSPL" },
};

/* The value of the extension with that OID, or NULL when the certificate has none. */
static const ASN1_OCTET_STRING *extension(X509 *cert, const char *oid)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int i = obj != NULL ? X509_get_ext_by_OBJ(cert, obj, -1) : -1;

	ASN1_OBJECT_free(obj);
	ERR_clear_error();
	return i >= 0 ? X509_EXTENSION_get_data(X509_get_ext(cert, i)) : NULL;
}

static int spl(X509 *cert, const char *key_name, int which, bool *present, uint8_t *ret)
{
	const ASN1_OCTET_STRING *v = extension(cert, spls[which].oid);
	const unsigned char *p;
	ASN1_INTEGER *n;
	int64_t value = -1;

	*present = v != NULL;
	if (v == NULL)
		return 0;
	p = ASN1_STRING_get0_data(v);
	n = d2i_ASN1_INTEGER(NULL, &p, ASN1_STRING_length(v));
	if (n == NULL || p != ASN1_STRING_get0_data(v) + ASN1_STRING_length(v) ||
	    ASN1_INTEGER_get_int64(&value, n) != 1 || value < 0 || value > 255) {
		ASN1_INTEGER_free(n);
		ERR_clear_error();
		return ebcc__error(ERR, "%s certificate: extension %s (%s) is not a DER INTEGER "
				   "from 0 to 255", key_name, spls[which].oid, spls[which].name);
	}
	ASN1_INTEGER_free(n);
	*ret = (uint8_t)value;
	return 0;
}

/* An IA5String or UTF8String extension as text, "" when absent. */
static int text(X509 *cert, const char *key_name, const char *oid, const char *name, char *buf,
		size_t size)
{
	const ASN1_OCTET_STRING *v = extension(cert, oid);
	const unsigned char *p;
	ASN1_STRING *s;
	int type, len;

	buf[0] = '\0';
	if (v == NULL)
		return 0;
	p = ASN1_STRING_get0_data(v);
	s = d2i_ASN1_PRINTABLE(NULL, &p, ASN1_STRING_length(v));
	type = s != NULL ? ASN1_STRING_type(s) : -1;
	len = s != NULL ? ASN1_STRING_length(s) : -1;
	if (s == NULL || p != ASN1_STRING_get0_data(v) + ASN1_STRING_length(v) ||
	    (type != V_ASN1_IA5STRING && type != V_ASN1_UTF8STRING) || len <= 0 ||
	    (size_t)len >= size || memchr(ASN1_STRING_get0_data(s), '\0', (size_t)len) != NULL) {
		ASN1_STRING_free(s);
		ERR_clear_error();
		return ebcc__error(ERR, "%s certificate: extension %s (%s) is not a DER IA5String "
				   "of 1 to %zu characters", key_name, oid, name, size - 1);
	}
	memcpy(buf, ASN1_STRING_get0_data(s), (size_t)len);
	buf[len] = '\0';
	ASN1_STRING_free(s);
	return 0;
}

/* hwID: 64 raw bytes, or the DER of an OCTET STRING of 64 (snp_tcb.h). */
static int hwid(X509 *cert, struct ebcc__snp_endorsement *e)
{
	const ASN1_OCTET_STRING *v = extension(cert, AMD_OID ".4");
	const unsigned char *data, *p;
	int len;

	if (v == NULL)
		return 0;
	data = ASN1_STRING_get0_data(v);
	len = ASN1_STRING_length(v);
	if (len == EBCC_SNP_CHIP_ID_SIZE) {
		memcpy(e->hwid, data, EBCC_SNP_CHIP_ID_SIZE);
	} else {
		ASN1_OCTET_STRING *inner;

		p = data;
		inner = d2i_ASN1_OCTET_STRING(NULL, &p, len);
		if (inner == NULL || p != data + len ||
		    ASN1_STRING_length(inner) != EBCC_SNP_CHIP_ID_SIZE) {
			ASN1_OCTET_STRING_free(inner);
			ERR_clear_error();
			return ebcc__error(ERR, "%s certificate: extension " AMD_OID ".4 (hwID) is "
					   "%d bytes, neither the %d-byte CHIP_ID nor an OCTET "
					   "STRING of it", e->key_name, len, EBCC_SNP_CHIP_ID_SIZE);
		}
		memcpy(e->hwid, ASN1_STRING_get0_data(inner), EBCC_SNP_CHIP_ID_SIZE);
		ASN1_OCTET_STRING_free(inner);
	}
	e->has_hwid = true;
	return 0;
}

static enum ebcc__snp_product product_line(const char *product)
{
	static const struct {
		const char *name;
		enum ebcc__snp_product line;
	} lines[] = { { "Milan", EBCC_SNP_PRODUCT_MILAN },
		      { "Genoa", EBCC_SNP_PRODUCT_GENOA },
		      { "Turin", EBCC_SNP_PRODUCT_TURIN } };
	size_t n = strcspn(product, "-");

	for (size_t i = 0; i < EBCC_ARRAY_SIZE(lines); i++)
		if (strlen(lines[i].name) == n && strncmp(product, lines[i].name, n) == 0)
			return lines[i].line;
	return EBCC_SNP_PRODUCT_OTHER;
}

int ebcc__snp_endorsement_parse(X509 *cert, const char *key_name,
				struct ebcc__snp_endorsement *ret)
{
	struct ebcc__snp_endorsement e = { .present = true, .key_name = key_name };
	uint8_t value[SPL_COUNT] = { 0 };
	bool present;
	int r;

	for (int i = 0; i < SPL_COUNT; i++) {
		r = spl(cert, key_name, i, &present, &value[i]);
		if (r < 0)
			return r;
		if (i == SPL_FMC)
			e.has_fmc = present;
		else if (!present)
			return ebcc__error(ERR, "%s certificate: no extension %s (%s): it does not "
					   "say which TCB it certifies (an AMD KDS certificate "
					   "always does)", key_name, spls[i].oid, spls[i].name);
	}
	e.tcb = (struct ebcc__snp_tcb){ .fmc = value[SPL_FMC], .bootloader = value[SPL_BL],
					.tee = value[SPL_TEE], .snp = value[SPL_SNP],
					.microcode = value[SPL_UCODE] };
	r = text(cert, key_name, AMD_OID ".2", "productName", e.product, sizeof(e.product));
	if (r == 0 && e.product[0] == '\0')
		r = ebcc__error(ERR, "%s certificate: no extension " AMD_OID ".2 (productName)",
				key_name);
	if (r == 0)
		r = text(cert, key_name, AMD_OID ".5", "csp_id", e.csp_id, sizeof(e.csp_id));
	if (r == 0)
		r = hwid(cert, &e);
	if (r < 0)
		return r;
	e.product_line = product_line(e.product);
	*ret = e;
	return 0;
}

static void tcb_text(const struct ebcc__snp_tcb *t, bool fmc, char *buf, size_t size)
{
	int n = fmc ? snprintf(buf, size, "fmc %u, ", t->fmc) : 0;

	snprintf(buf + n, size - (size_t)n, "bootloader %u, tee %u, snp %u, microcode %u",
		 t->bootloader, t->tee, t->snp, t->microcode);
}

bool ebcc__snp_chip_id_masked(const struct ebcc__snp_report *rep)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < EBCC_SNP_CHIP_ID_SIZE; i++)
		acc |= rep->chip_id[i];
	return acc == 0;
}

int ebcc__snp_endorsement_check(const struct ebcc__snp_report *rep,
				const struct ebcc__snp_endorsement *e, const char *root_name)
{
	enum ebcc__snp_product line = rep->product != EBCC_SNP_PRODUCT_UNKNOWN ? rep->product
									      : e->product_line;
	bool turin = line == EBCC_SNP_PRODUCT_TURIN;
	struct ebcc__snp_tcb reported;
	char want[96], got[96];

	if (rep->product != EBCC_SNP_PRODUCT_UNKNOWN && rep->product != e->product_line)
		return ebcc__error(ERR, "SEV-SNP report: its CPUID says %s, its %s certificate's "
				   "productName \"%s\"", ebcc__snp_product_name(rep->product),
				   e->key_name, e->product);
	if (strncmp(root_name, "ARK-", 4) == 0 && e->product_line != EBCC_SNP_PRODUCT_OTHER &&
	    strcmp(root_name + 4, ebcc__snp_product_name(e->product_line)) != 0)
		return ebcc__error(ERR, "SEV-SNP report: a %s %s chains to \"%s\", the root of "
				   "another product line", e->product, e->key_name, root_name);
	if (turin && !e->has_fmc)
		return ebcc__error(ERR, "SEV-SNP report: a Turin report, but its %s certificate has "
				   "no extension " AMD_OID ".3.9 (fmcSPL)", e->key_name);
	ebcc__snp_tcb_decode(rep->reported_tcb, line, &reported);
	if (reported.bootloader != e->tcb.bootloader || reported.tee != e->tcb.tee ||
	    reported.snp != e->tcb.snp || reported.microcode != e->tcb.microcode ||
	    (turin && reported.fmc != e->tcb.fmc)) {
		tcb_text(&reported, turin, got, sizeof(got));
		tcb_text(&e->tcb, turin, want, sizeof(want));
		return ebcc__error(ERR, "SEV-SNP report: REPORTED_TCB (%s) is not the TCB its %s "
				   "certificate was issued for (%s)", got, e->key_name, want);
	}
	if (e->has_hwid && !ebcc__snp_chip_id_masked(rep) &&
	    memcmp(e->hwid, rep->chip_id, EBCC_SNP_CHIP_ID_SIZE) != 0)
		return ebcc__error(ERR, "SEV-SNP report: CHIP_ID is not the hwID of its %s "
				   "certificate (a certificate of another chip)", e->key_name);
	return 0;
}

static int tcb_at_least(const char *field, uint64_t raw, enum ebcc__snp_product line,
			const struct ebcc__snp_tcb *min)
{
	bool turin = line == EBCC_SNP_PRODUCT_TURIN;
	struct ebcc__snp_tcb t;
	char want[96], got[96];

	ebcc__snp_tcb_decode(raw, line, &t);
	if (t.bootloader >= min->bootloader && t.tee >= min->tee && t.snp >= min->snp &&
	    t.microcode >= min->microcode && (!turin || t.fmc >= min->fmc))
		return 0;
	tcb_text(&t, turin, got, sizeof(got));
	tcb_text(min, turin, want, sizeof(want));
	return ebcc__error(ERR, "SEV-SNP report: %s (%s) is below backend_options.tsm.snp_min_tcb "
			   "(%s)", field, got, want);
}

int ebcc__snp_policy_check(const struct ebcc__snp_report *rep, const struct ebcc__tsm_policy *p)
{
	int r = 0;

	if (p->has_snp_min_tcb) {
		r = tcb_at_least("REPORTED_TCB", rep->reported_tcb, rep->product, &p->snp_min_tcb);
		if (r == 0)
			r = tcb_at_least("COMMITTED_TCB", rep->committed_tcb, rep->product,
					 &p->snp_min_tcb);
		if (r < 0)
			return r;
	}
	if ((rep->policy & EBCC_SNP_POLICY_MIGRATE_MA) != 0 && !p->snp_allow_migration_agent)
		return ebcc__error(ERR, "SEV-SNP report: POLICY.MIGRATE_MA is set, so a migration "
				   "agent may export the guest; set backend_options.tsm."
				   "snp_allow_migration_agent to accept it");
	if ((rep->policy & EBCC_SNP_POLICY_SMT) != 0 && !p->snp_allow_smt)
		return ebcc__error(ERR, "SEV-SNP report: POLICY.SMT is set (the guest may run with "
				   "simultaneous multithreading) and backend_options.tsm."
				   "snp_allow_smt is false");
	return 0;
}
