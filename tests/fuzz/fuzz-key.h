/* SPDX-License-Identifier: MIT */
/*
 * The fuzzers' trusted key: the public half of sim-device-key.pem, a simulated device key
 * (Ed25519, as sim signs since report version 2) generated once for the fuzz tests and checked
 * in, so that the seed corpus of evidence (signed by make-seeds.py through a state root holding
 * that key) verifies, and a crash input reproduces on any machine. It protects nothing: never trust it elsewhere.
 */
#ifndef EBCC_FUZZ_KEY_H
#define EBCC_FUZZ_KEY_H

/* The public half of sim-device-key.pem (make-seeds.py checks that they agree). */
static const char fuzz_sim_public_key_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MCowBQYDK2VwAyEAUgVh6ePbU6kexLHpmeGBypNdWJxTOqTHkkKznQLEYak=\n"
	"-----END PUBLIC KEY-----\n";

#endif
