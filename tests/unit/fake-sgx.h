/* SPDX-License-Identifier: MIT */
/*
 * A fake of the Linux SGX driver (/dev/sgx_enclave, arch/x86/kernel/cpu/sgx/{driver,ioctl}.c)
 * and of the CPU's ENCLS leaves behind it, behind the host operations: the ioctl numbers and
 * structs of <asm/sgx.h> copied in and out whole; one enclave per open file; CREATE once (again:
 * -EINVAL), a SECS whose size is not a power of two of at least two pages -EINVAL, an ECREATE
 * fault (base not aligned to the size, reserved ATTRIBUTES bits, XFRM without x87 and SSE, SSA
 * frame size 0) -EIO; ADD_PAGES only between CREATE and INIT (-EINVAL), src, offset and length
 * page aligned and inside the enclave (-EINVAL), SECINFO of type REG or TCS with W only with R,
 * a TCS without permissions and reserved bits zero (-EINVAL), a page added twice -EBUSY, count
 * written back, SGX_PAGE_MEASURE as EEXTEND of each 256 bytes; INIT once after CREATE (-EINVAL),
 * vendor 0 or 0x8086 (-EINVAL), PROVISIONKEY refused without the PROVISION ioctl (-EACCES),
 * then EINIT as the CPU does it: the SIGSTRUCT's RSA-3072 signature (checked here with
 * OpenSSL's BIGNUM arithmetic, not the library's code), q1 and q2, its ENCLAVEHASH against the
 * MRENCLAVE this fake recomputed from the pages added (its own SHA-256 records), the SECS's
 * ATTRIBUTES, XFRM and MISCSELECT under the SIGSTRUCT's masks — a refusal is -EPERM, its SGX
 * error code kept for the test (fake_sgx_last_einit()). mmap: MAP_SHARED only (-EINVAL), inside
 * the enclave (-EINVAL, the fake's own choice), protection capped by every added page's SECINFO
 * in the range (a TCS counts as RW) (-EACCES); anonymous reservations and munmap go to the real
 * system, tracked so that the test sees what is left.
 *
 * What it cannot be: a CPU with SGX. No EPC, no isolation, no encryption: an enclave's pages are
 * ordinary memory of the test process, copied into the mappings at mmap. The ENCLU stand-in is
 * the sgx_enter operation (for the vDSO's __vdso_sgx_enter_enclave): where ENCLU[EENTER] would
 * switch to enclave mode at the TCS's OENTRY, it checks that run->tcs is the address of a TCS
 * page of an initialized, mapped enclave (else the fault a bad EENTER takes: -EFAULT, #GP) and
 * calls the test's C function (fake_sgx_entry_fn) on the caller's thread; its return stands for
 * ENCLU[EEXIT] (run->function = 4), or, when it reports an exception, the vDSO's -EFAULT with
 * the vector, error code and address. No AEX, ERESUME or EGETKEY.
 *
 * EREPORT and the quoting enclave are apart, as on hardware. fake_sgx_ereport() stands for
 * ENCLU[EREPORT] from inside a call: the entered enclave's REPORT (CPUSVN bytes
 * FAKE_SGX_TCB_SVN, MISCSELECT, ATTRIBUTES with INIT, XFRM, MRENCLAVE and MRSIGNER as measured
 * and signed at INIT, the SIGSTRUCT's ISVPRODID and ISVSVN, the REPORTDATA given), the CPU's
 * KEYID (one per fake, as one per boot) and the AES-128-CMAC of the body under the target's
 * report key: the first 16 bytes of HMAC-SHA256(a CPU secret drawn at fake_sgx_new(), the
 * TARGETINFO's MRENCLAVE, ATTRIBUTES and MISCSELECT, KEYID). Only the target can check that MAC.
 *
 * The quoting enclave is behind the host operations of Intel's quote library.
 * sgx_qe_target_info: its TARGETINFO (MRENCLAVE "libebcc fake SGX quoting enclave", ATTRIBUTES
 * INIT, MODE64BIT and PROVISIONKEY as Intel's QE3 has them, XFRM 3, MISCSELECT 0).
 * sgx_qe_quote: the REPORT's MAC checked under the QE's own report key, as Intel's QE3 does
 * with sgx_verify_report() (a REPORT for another target, or changed, is the library's
 * SGX_QL_INVALID_REPORT, 0xe015), then a DCAP quote v3 in Intel's format whose report body is
 * the REPORT's: signed by an attestation key, with a QE report (the QE's MRENCLAVE, ATTRIBUTES
 * and MISCSELECT above, Intel's QE MRSIGNER, ISVPRODID 1, ISVSVN 8) that binds the key and is
 * signed by a PCK key, and the PCK chain (PCK certificate, processor CA, root; test keys made at
 * fake_sgx_new()) as type-5 certification data. The PCK certificate has Intel's SGX extension
 * (FAKE_SGX_FMSPC, PCE-ID 0000, every TCB component SVN and CPUSVN byte FAKE_SGX_TCB_SVN,
 * PCESVN FAKE_SGX_PCESVN), so that tests can grade it against TCB info they sign under the
 * fake's root (fake_sgx_pki()). fake_sgx_quote() is both: EREPORT for the QE, the QE's quote.
 *
 * Not modelled: the CPU's key hierarchy (OWNEREPOCH, fuses, CPUSVN, CONFIGID and the rest of
 * the real derivation), EGETKEY for the enclave itself, KSS, a CPUSVN that changes, EREPORT's
 * alignment and in-enclave checks on its operands, the PCE and the provisioning of the
 * attestation key (the PCK key signs the QE report directly).
 */
#ifndef EBCC_FAKE_SGX_H
#define EBCC_FAKE_SGX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../../backends/common/hostops.h"

/* SDM's EINIT error codes. */
#define FAKE_SGX_INVALID_SIG_STRUCT 1
#define FAKE_SGX_INVALID_ATTRIBUTE 2
#define FAKE_SGX_INVALID_MEASUREMENT 4
#define FAKE_SGX_INVALID_SIGNATURE 8
#define FAKE_SGX_INVALID_EINITTOKEN 16

/* What the PCK certificate's SGX extension says of the platform. */
#define FAKE_SGX_FMSPC { 0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00 }
#define FAKE_SGX_FMSPC_HEX "00906ed50000"
#define FAKE_SGX_TCB_SVN 4
#define FAKE_SGX_PCESVN 13

struct fake_sgx;

/* What the enclave's code sees when it is entered. */
struct fake_sgx_call {
	struct fake_sgx *fake;
	unsigned long rdi, rsi, rdx, r8, r9;
	uint8_t *base;    /* the enclave's mapped memory */
	uint64_t size;
	uint64_t tcs_offset;
	uint8_t mrenclave[32], mrsigner[32];
	/* Set to report an exception instead of an EEXIT. */
	uint16_t exception_vector, exception_error_code;
	uint64_t exception_addr;
};

/* The "enclave code" of every enclave of the fake. */
typedef void (*fake_sgx_entry_fn)(struct fake_sgx_call *call, void *userdata);

struct fake_sgx_faults {
	bool no_device;
	unsigned add_stop_after; /* ADD_PAGES returns early after so many pages (a signal) */
	bool qe_absent;          /* no quote library: both of its operations -ENOENT */
	unsigned qe_error;       /* sgx_qe_quote returns this quote3_error_t */
	/* EINIT fails with this SGX error code after its own checks pass: a CPU whose launch
	 * control refuses the signer (FAKE_SGX_INVALID_EINITTOKEN), say. */
	int einit_error;
};

struct fake_sgx *fake_sgx_new(fake_sgx_entry_fn entry, void *userdata);
void fake_sgx_free(struct fake_sgx *f);
const struct ebcc__hostops *fake_sgx_host(struct fake_sgx *f);
struct fake_sgx_faults *fake_sgx_faults(struct fake_sgx *f);
/* Called with an initialized enclave's base when its file is closed (the fake releases the
 * enclave there): for a runtime stand-in that keeps state per enclave. */
void fake_sgx_on_release(struct fake_sgx *f, void (*fn)(uint8_t *base, void *userdata),
			 void *userdata);

/* From inside a call: ENCLU[EREPORT], the entered enclave's REPORT for target_info over
 * report_data. */
void fake_sgx_ereport(const struct fake_sgx_call *call, const uint8_t target_info[512],
		      const uint8_t report_data[64], uint8_t report[432]);
/* From inside a call: a quote of the entered enclave over report_data (malloc), the QE's
 * quote of its REPORT for the QE; the faults do not apply. */
void fake_sgx_quote(const struct fake_sgx_call *call, const uint8_t report_data[64],
		    uint8_t **ret, size_t *ret_len);
/* The root certificate the PCK chain of its quotes ends in (PEM). */
const char *fake_sgx_root_pem(const struct fake_sgx *f);
/* That root and the processor CA that issued the PCK certificate, with their keys (borrowed
 * until fake_sgx_free()), for collateral and CRLs a test makes. */
void fake_sgx_pki(const struct fake_sgx *f, X509 **root, EVP_PKEY **root_key, X509 **ca,
		  EVP_PKEY **ca_key);

/* The last EINIT's SGX error code (0: the enclave was initialized). */
int fake_sgx_last_einit(const struct fake_sgx *f);
/* The MRENCLAVE the fake computed for the last INIT. */
const uint8_t *fake_sgx_last_mrenclave(const struct fake_sgx *f);
/* What is left: open enclave files, mappings and reservations. */
unsigned fake_sgx_open_files(const struct fake_sgx *f);
unsigned fake_sgx_mappings(const struct fake_sgx *f);
/* How many times the device was opened. */
unsigned fake_sgx_opens(const struct fake_sgx *f);

#endif
