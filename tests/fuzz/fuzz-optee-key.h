/* SPDX-License-Identifier: MIT */
/*
 * The OP-TEE fuzzer's trusted key: the public half of optee-pta-key.pem, an RSA-2048 key that
 * stands in for a device's attestation PTA key, generated once for the fuzz tests and checked
 * in, so that the seed reports (signed by make-seeds.py with that key) verify, and a crash
 * input reproduces on any machine. It protects nothing: never trust it elsewhere.
 */
#ifndef EBCC_FUZZ_OPTEE_KEY_H
#define EBCC_FUZZ_OPTEE_KEY_H

/* The public half of optee-pta-key.pem (make-seeds.py checks that they agree). */
static const char fuzz_optee_public_key_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA61ctcPK0MxBxVZb7hStQ\n"
	"+mhlOf3hhUDXirgMTFz0snbZNhHp1PJ6BACbMFfQWYpXklGnOMj1mrBOGP/UWv2r\n"
	"gY38qJv3g6+MD/Euw00eTCPVBlV0uSP1ZSe6O/mt0GTiK/ST24oSJU4b7eoqk5ib\n"
	"XhwLddHZq9czAidYcRcXcx98XxypcimwJBvUNXknbo0T7KYeVm0kdj7VqUc9ghCk\n"
	"lHG7x6lMDzhxeWbjxw81ydbLI6Td5GhvoKnWOTkkrohFwA4ZPAk/FuBolgS4zfYi\n"
	"hjRSOk+X+qCV6DsyGVsSmSDx/TzaF6TMo5WgacUzx6Lq6rGUz3/bpn0ZNBV8/yt4\n"
	"GQIDAQAB\n"
	"-----END PUBLIC KEY-----\n";

#endif
