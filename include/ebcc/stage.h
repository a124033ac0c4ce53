/* SPDX-License-Identifier: MIT */
/*
 * libebcc — the stage side, for authors of confidential stages.
 *
 * A stage image is an ordinary, statically linked executable built with
 *     cc stage.c $(pkg-config --cflags --libs libebcc-stage)
 * Its main() calls ebcc_stage_serve() with a handler; the host's backend starts it inside the
 * TEE (for the sim backend: a sandboxed process) with its channel to the host on descriptor 3.
 *
 * This library is the protected side's trusted computing base: it uses only libc, allocates
 * only what frames need, and is single-threaded.
 */
#ifndef EBCC_STAGE_H
#define EBCC_STAGE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The descriptor on which the host hands the stage its channel. */
#define EBCC_STAGE_CHANNEL_FD 3

/*
 * Handles one request. On success returns 0 and stores a response allocated with malloc() in
 * *ret_response (the library frees it after sending; NULL with length 0 is an empty response).
 * A negative return is reported to the host as a failed invocation (EBCC_ERR_STAGE with the
 * code in the message); request is valid only during the call.
 */
typedef int (*ebcc_stage_handler_fn)(const void *request, size_t request_len,
				     void **ret_response, size_t *ret_response_len,
				     void *userdata);

/*
 * Serves requests on the channel until the host hangs up, calling handler once per request,
 * one at a time. Returns 0 when the host hung up, or a negative EBCC_ERR_* code when the channel
 * is missing or the host broke the protocol. Not thread-safe: call once, from one thread.
 */
int ebcc_stage_serve(ebcc_stage_handler_fn handler, void *userdata);

/*
 * The binding of one answer, for stages that cannot use ebcc_stage_serve() because their TEE
 * calls them rather than the other way round (an OP-TEE trusted application's invoke entry
 * point; ebcc-backends(7), optee, attestation "ta-binding"). bind is the BIND payload the host
 * sent with the request (bind_len bytes, ebcc-stage-protocol(7)); request and response are the
 * bytes the stage received and returns. Writes the 64 bytes of report_data that the stage then
 * asks its TEE to report over, exactly as ebcc_stage_serve() computes them. Returns 0, or
 * EBCC_ERR_INVALID_ARG (-1) when bind is not a well-formed BIND payload or a pointer is NULL
 * with a length. Keeps no state: thread-safe.
 */
int ebcc_stage_report_data(const void *bind, size_t bind_len, const void *request,
			   size_t request_len, const void *response, size_t response_len,
			   unsigned char report_data[64]);

/*
 * Sends one log line to the host during a request; it ends up in the invocation's log.txt.
 * Lines longer than 4096 bytes are cut. Outside a request, or when the host's log budget for
 * the invocation is spent, the line is dropped. Not thread-safe.
 */
void ebcc_stage_log(const char *message);

/* ---- Secrets released to this stage (ebcc-secrets(7)) ------------------------------------- */

/*
 * Makes a fresh X25519 key pair inside the stage, during a request (from the handler), and
 * writes its public key (32 bytes, RFC 7748). The answer to this request binds it: its
 * report_data covers the key, and its evidence (version 3) carries it as "public_key". A
 * relying party that verified that evidence seals a secret to it (ebcc_secret_seal(3)). The
 * private key never leaves this process. One key at a time: a second call in the same request
 * gives the same key; a call in a later request replaces (and wipes) the earlier key; a key
 * whose answer is not sent (the handler failed) is wiped. Returns 0, or EBCC_ERR_INVALID_ARG
 * (NULL), EBCC_ERR_STATE (outside a request), EBCC_ERR_IO (no randomness from getrandom()).
 * Not thread-safe.
 */
int ebcc_stage_key_public(unsigned char public_key[32]);

/*
 * Opens a secret sealed to the key an earlier answer bound (sealed_len bytes, the format of
 * ebcc-secrets(7)), inside the stage. On success *ret_secret (malloc; free it with
 * ebcc_stage_secret_free(), which wipes it) holds *ret_secret_len bytes of plaintext, and the
 * private key is wiped: a key opens one secret. Returns 0, or EBCC_ERR_INVALID_ARG (NULL),
 * EBCC_ERR_CORRUPT (not a well-formed sealed secret), EBCC_ERR_STATE (no bound key: none was
 * made, its answer is still being made, or it opened a secret already), EBCC_ERR_VERIFY
 * (sealed to another key or another answer's report_data, or the ciphertext, its tag or its
 * header was changed: the key stays for the genuine secret), EBCC_ERR_NO_MEMORY.
 * Not thread-safe.
 */
int ebcc_stage_open_secret(const void *sealed, size_t sealed_len, void **ret_secret,
			   size_t *ret_secret_len);

/* Wipes len bytes of secret and frees it (NULL: nothing). */
void ebcc_stage_secret_free(void *secret, size_t len);

/*
 * Loads an encrypted image inside the stage (ebcc-secrets(7)): request (request_len bytes) is a
 * load request, as `ebcc-runtime load-image` makes it: the image key, sealed to the key an
 * earlier answer of this stage bound (ebcc_stage_key_public()), and the image that
 * `ebcc-runtime encrypt-image` encrypted with it. The key is opened with the stage's key
 * (ebcc_stage_open_secret(), which uses that key up) and the image decrypted here; neither
 * ever leaves the stage. On success *ret_image (malloc; free it with ebcc_stage_secret_free())
 * holds *ret_len bytes of plaintext, and this answer and every later one bind its SHA-256
 * (evidence version 4, "image_digest"): one image per stage process. Returns 0, or
 * EBCC_ERR_INVALID_ARG (NULL), EBCC_ERR_STATE (an image is loaded already, or no bound key),
 * EBCC_ERR_CORRUPT (not a load request, not a sealed secret, not an encrypted image),
 * EBCC_ERR_VERIFY (the key was not sealed to this stage's answer, or the image does not
 * decrypt with it: another key, or changed), EBCC_ERR_NO_MEMORY. Not thread-safe.
 */
int ebcc_stage_load_image(const void *request, size_t request_len, void **ret_image,
			  size_t *ret_len);

#ifdef __cplusplus
}
#endif

#endif /* EBCC_STAGE_H */
