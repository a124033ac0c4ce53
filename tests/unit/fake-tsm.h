/* SPDX-License-Identifier: MIT */
/*
 * A fake configfs-tsm, for tests only: host operations (backends/common/hostops.h) that behave
 * like the kernel's drivers/virt/coco/tsm.c under /sys/kernel/config/tsm/report, with a
 * tdx_guest or sev_guest provider that answers with structurally valid TDX quotes (v4, v5) or SEV-SNP
 * attestation reports signed by keys generated for the test run.
 *
 * What it imitates: mkdir of a report instance (ENXIO without a provider, EEXIST, EPERM
 * elsewhere); the attributes provider, generation, inblob (write-only, at most 64 bytes, EFBIG
 * beyond; handed over on close, which advances generation), outblob and auxblob (read-only,
 * generated on first read after a write, EINVAL before any inblob, cached while generation
 * holds; auxblob only for sev_guest), privlevel and privlevel_floor (sev_guest); EACCES for a
 * wrong access mode; rmdir. Descriptors are numbers no real file has, so a backend that used a
 * real system call on one would fail.
 *
 * What it can be told to do wrong, or how to vary like real hosts (struct fake_tsm_faults).
 */
#ifndef EBCC_TEST_FAKE_TSM_H
#define EBCC_TEST_FAKE_TSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../backends/common/hostops.h"

enum fake_tsm_provider {
	FAKE_TSM_NONE, /* configfs-tsm mounted, no provider registered */
	FAKE_TSM_TDX,
	FAKE_TSM_SNP,
};

struct fake_tsm_faults {
	bool unmounted;            /* no /sys/kernel/config at all */
	int mkdir_errno;           /* mkdir of a report instance fails with it */
	int rmdir_errno;           /* rmdir of a report instance fails with it */
	size_t inblob_max;         /* writes beyond it fail with EFBIG (default 64) */
	bool empty_outblob;        /* the provider produces a 0-byte report */
	size_t short_outblob;      /* cut the report to this many bytes (0: whole) */
	int outblob_errno;         /* generating the report fails with it (EIO, EAGAIN...) */
	unsigned races;            /* this many reports see another writer's inblob first */
	bool foreign_report_data;  /* the provider reports other REPORTDATA (a broken one) */
	bool debug;                /* a debuggable TD (TDATTRIBUTES) or guest (POLICY) */
	bool no_certs;             /* sev_guest: an auxblob without certificates */
	const char *provider_name; /* overrides what provider reads, e.g. "cca_guest" */
	/* tdx_guest pads like real hosts: by default 70 zero bytes after a v4 quote (Intel's quote
	 * service answers with the v5 size; a v5 quote is that size); tdx_buffer > 0 pads to that many bytes instead (some
	 * clouds return 8000-byte buffers), tdx_no_padding sends the bare quote. */
	size_t tdx_buffer;
	bool tdx_no_padding;
	bool tdx_dirty_padding; /* a non-zero byte in the padding (a broken quote service) */
	/* 0: a v4 quote; 2 or 3: a v5 quote with a TD report 1.0 or 1.5 body (TDX module 1.5) */
	uint16_t tdx_body_type;
	/* sev_guest: the report's VERSION (0: 3, what Milan and Genoa firmware since 1.55 make),
	 * the chip (CPUID family and model in versions >= 3) and whether the VLEK signs (SIGNING_KEY
	 * 1, the certificate under the VLEK GUID) instead of the VCEK. */
	uint32_t snp_version;
	enum fake_snp_chip { FAKE_SNP_MILAN, FAKE_SNP_GENOA, FAKE_SNP_TURIN } snp_chip;
	bool snp_vlek;
	/* The VCEK or VLEK carries AMD's extensions for the report's chip and TCB, as AMD's KDS
	 * issues it, unless told otherwise: another productName, a TCB one microcode patch level
	 * older than REPORTED_TCB (a host handing over the certificate of an older TCB), the hwID
	 * of another chip (hwID raw, as the KDS wrote it before 2023), or no ucodeSPL at all (not a KDS certificate). */
	const char *snp_cert_product;
	uint64_t snp_policy_bits; /* ORed into the report's POLICY (0x30000: SMT allowed) */
	bool snp_cert_older_tcb;
	bool snp_cert_other_chip;
	bool snp_cert_hwid_wrapped; /* hwID as the DER of an OCTET STRING (AMD KDS since 2023) */
	bool snp_cert_no_tcb;
};

struct fake_tsm;

struct fake_tsm *fake_tsm_new(enum fake_tsm_provider provider);
void fake_tsm_free(struct fake_tsm *t);

const struct ebcc__hostops *fake_tsm_host(struct fake_tsm *t);
struct fake_tsm_faults *fake_tsm_faults(struct fake_tsm *t);

/* Trust material, owned by t: the root (TDX: root CA; SNP: ARK) as PEM; the key that the
 * verifier may pin in trusted_keys (TDX: the PCK key; SNP: the VCEK) as PEM; SNP: the ASK and
 * VCEK certificates as PEM (for snp_certs). */
const char *fake_tsm_root_pem(struct fake_tsm *t);
const char *fake_tsm_signer_key_pem(struct fake_tsm *t);
const char *fake_tsm_chain_pem(struct fake_tsm *t);
/* The root's CRL (malloc'ed PEM) as a vendor publishes it: current from now + this_update to
 * now + next_update (seconds); revoke_ca puts the intermediate (PCK platform CA, ASK) on it;
 * forged signs it with a key that is not the root's. */
char *fake_tsm_crl_pem(struct fake_tsm *t, bool revoke_ca, long this_update, long next_update,
		       bool forged);
/* The launch measurement (MRTD or MEASUREMENT), 48 bytes, and as 96 hex digits. */
const uint8_t *fake_tsm_launch_measurement(struct fake_tsm *t);
const char *fake_tsm_launch_measurement_hex(struct fake_tsm *t);

/* Counters: report instances alive now, made in all, reports generated, descriptors open,
 * opens made without O_CLOEXEC. */
unsigned fake_tsm_entries(struct fake_tsm *t);
unsigned fake_tsm_mkdirs(struct fake_tsm *t);
unsigned fake_tsm_reports(struct fake_tsm *t);
unsigned fake_tsm_open_fds(struct fake_tsm *t);
unsigned fake_tsm_opens_without_cloexec(struct fake_tsm *t);

#endif
