/* SPDX-License-Identifier: MIT */
/*
 * Results of the GlobalPlatform TEE Client API as the Linux TEE subsystem returns them in
 * struct tee_ioctl_open_session_arg / tee_ioctl_invoke_arg (ret, ret_origin): the values of
 * the GP TEE Client API specification (tee_client_api.h of optee_client), and what each means
 * for a stage in libebcc's terms.
 */
#ifndef EBCC_OPTEE_TEEC_H
#define EBCC_OPTEE_TEEC_H

#include <stdint.h>

#define TEEC_SUCCESS 0x00000000u
#define TEEC_ERROR_GENERIC 0xFFFF0000u
#define TEEC_ERROR_ACCESS_DENIED 0xFFFF0001u
#define TEEC_ERROR_CANCEL 0xFFFF0002u
#define TEEC_ERROR_ACCESS_CONFLICT 0xFFFF0003u
#define TEEC_ERROR_EXCESS_DATA 0xFFFF0004u
#define TEEC_ERROR_BAD_FORMAT 0xFFFF0005u
#define TEEC_ERROR_BAD_PARAMETERS 0xFFFF0006u
#define TEEC_ERROR_BAD_STATE 0xFFFF0007u
#define TEEC_ERROR_ITEM_NOT_FOUND 0xFFFF0008u
#define TEEC_ERROR_NOT_IMPLEMENTED 0xFFFF0009u
#define TEEC_ERROR_NOT_SUPPORTED 0xFFFF000Au
#define TEEC_ERROR_NO_DATA 0xFFFF000Bu
#define TEEC_ERROR_OUT_OF_MEMORY 0xFFFF000Cu
#define TEEC_ERROR_BUSY 0xFFFF000Du
#define TEEC_ERROR_COMMUNICATION 0xFFFF000Eu
#define TEEC_ERROR_SECURITY 0xFFFF000Fu
#define TEEC_ERROR_SHORT_BUFFER 0xFFFF0010u
#define TEEC_ERROR_EXTERNAL_CANCEL 0xFFFF0011u
#define TEEC_ERROR_OVERFLOW 0xFFFF300Fu
#define TEEC_ERROR_TARGET_DEAD 0xFFFF3024u
#define TEEC_ERROR_STORAGE_NO_SPACE 0xFFFF3041u
#define TEEC_ERROR_SIGNATURE_INVALID 0xFFFF3072u

#define TEEC_ORIGIN_API 1
#define TEEC_ORIGIN_COMMS 2
#define TEEC_ORIGIN_TEE 3
#define TEEC_ORIGIN_TRUSTED_APP 4

/* "TEEC_ERROR_SHORT_BUFFER", or "0x..." kept in a thread-local buffer for unknown codes. */
const char *ebcc__teec_name(uint32_t ret);
/* "the TEE", "the trusted application", "the communication stack", "the client API". */
const char *ebcc__teec_origin(uint32_t origin);

/*
 * Sets the message "<what>: <TEEC_ERROR_*> from <origin>: <meaning>" and returns the EBCC code:
 * TARGET_DEAD -> EBCC_ERR_STAGE (the TA panicked; its session is over), BUSY ->
 * EBCC_ERR_BUSY, ITEM_NOT_FOUND (opening) -> EBCC_ERR_NOT_FOUND, ACCESS_DENIED ->
 * EBCC_ERR_PERMISSION, COMMUNICATION -> EBCC_ERR_IO, OUT_OF_MEMORY -> EBCC_ERR_NO_MEMORY
 * when the TEE ran out, any other error of the trusted application -> EBCC_ERR_STAGE, of the
 * TEE or the stack -> EBCC_ERR_BACKEND.
 */
int ebcc__teec_error(uint32_t ret, uint32_t origin, const char *what);

#endif
