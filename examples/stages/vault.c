/* SPDX-License-Identifier: MIT */
/*
 * vault: a stage that receives a secret from a relying party that verified its evidence
 * (ebcc-secrets(7)), and uses it without ever answering it.
 *
 *   "key"             makes a fresh key pair; the answer's evidence binds the public key
 *                     (answers the public key in hex)
 *   "open:<sealed>"   opens a secret sealed to that answer (ebcc_stage_open_secret()) and keeps
 *                     it; answers "opened <n> bytes"
 *   "hmac:<message>"  answers HMAC-SHA-256(secret, message) in hex
 *   "forget"          wipes the secret
 *
 * A failed open fails the request with the library's code (the host's message names it).
 * Build: cc vault.c $(pkg-config --cflags --libs libebcc-stage)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include <ebcc/ebcc.h>
#include <ebcc/stage.h>

static void *secret;
static size_t secret_len;

static int answer(const char *text, void **ret_response, size_t *ret_len)
{
	size_t n = strlen(text);

	*ret_response = malloc(n > 0 ? n : 1);
	if (*ret_response == NULL)
		return EBCC_ERR_NO_MEMORY;
	memcpy(*ret_response, text, n);
	*ret_len = n;
	return 0;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static int handle(const void *request, size_t len, void **ret_response, size_t *ret_len,
		  void *userdata)
{
	const char *in = request;
	char text[2 * 32 + 1], line[96];
	int r;

	(void)userdata;
	if (len == 3 && memcmp(in, "key", 3) == 0) {
		unsigned char pk[32];

		r = ebcc_stage_key_public(pk);
		if (r < 0)
			return r;
		ebcc_stage_log("vault: made a key; this answer binds it");
		hex(pk, sizeof(pk), text);
		return answer(text, ret_response, ret_len);
	}
	if (len >= 5 && memcmp(in, "open:", 5) == 0) {
		void *opened = NULL;
		size_t opened_len = 0;

		r = ebcc_stage_open_secret(in + 5, len - 5, &opened, &opened_len);
		if (r < 0) {
			snprintf(line, sizeof(line), "vault: the secret did not open (%d)", r);
			ebcc_stage_log(line);
			return r;
		}
		ebcc_stage_secret_free(secret, secret_len);
		secret = opened;
		secret_len = opened_len;
		snprintf(line, sizeof(line), "opened %zu bytes", opened_len);
		return answer(line, ret_response, ret_len);
	}
	if (len >= 5 && memcmp(in, "hmac:", 5) == 0) {
		br_hmac_key_context kc;
		br_hmac_context hc;
		unsigned char mac[32];

		if (secret == NULL)
			return EBCC_ERR_STATE;
		br_hmac_key_init(&kc, &br_sha256_vtable, secret, secret_len);
		br_hmac_init(&hc, &kc, 0);
		br_hmac_update(&hc, in + 5, len - 5);
		br_hmac_out(&hc, mac);
		hex(mac, sizeof(mac), text);
		return answer(text, ret_response, ret_len);
	}
	if (len == 6 && memcmp(in, "forget", 6) == 0) {
		ebcc_stage_secret_free(secret, secret_len);
		secret = NULL;
		secret_len = 0;
		return answer("forgotten", ret_response, ret_len);
	}
	return EBCC_ERR_INVALID_ARG;
}

int main(void)
{
	return ebcc_stage_serve(handle, NULL) < 0 ? 1 : 0;
}
