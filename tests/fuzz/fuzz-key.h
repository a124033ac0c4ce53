/* SPDX-License-Identifier: MIT */
/*
 * The fuzzers' trusted key: the public half of sim-device-key.pem, a simulated device key
 * (ECDSA P-256) generated once for the fuzz tests and checked in, so that the seed corpus of
 * evidence (signed by make-seeds.py through a state root holding that key) verifies, and a
 * crash input reproduces on any machine. It protects nothing: never trust it elsewhere.
 */
#ifndef EBCC_FUZZ_KEY_H
#define EBCC_FUZZ_KEY_H

/* The public half of sim-device-key.pem (make-seeds.py checks that they agree). */
static const char fuzz_sim_public_key_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEsVa5oLVIaZdD3go0N/CrBMIWI3e6\n"
	"xPD5evtvS10SKbGrPbnnBOzMe3TKFATSMe6Chu6kjTxOE/WLpL8+8CXH+w==\n"
	"-----END PUBLIC KEY-----\n";

#endif
