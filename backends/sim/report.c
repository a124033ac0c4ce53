/* SPDX-License-Identifier: MIT */
/*
 * Simulated attestation: the device key (created once per state root, under a lock, written
 * atomically 0600), the signer the security monitor holds (monitor.c), a report over a
 * canonical length-prefixed encoding, and the offline check of such a report against trusted
 * public keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "backend-env.h"
#include "ebcc-base.h"
#include "keycache.h"
#include "report.h"

#define REPORT_MAGIC "EBSR"
/* Version 1: ECDSA P-256 over SHA-256, signed by the host library (libebcc 0.1); verified,
 * never made. Version 2: Ed25519, signed by the security monitor. */
#define REPORT_V1 1
#define REPORT_V2 2
#define DOMAIN_V1 "EBCC-SIM-REPORT-V1"
#define DOMAIN_V2 "EBCC-SIM-REPORT-V2"
#define FORMAT_MAX 64
#define MEASUREMENT_MAX EBCC_SIM_MEASUREMENT_MAX
#define SIG_MAX 80
#define KEY_FILE_MAX 16384
/* Every signed message and every report fits: the fields are bounded above. */
#define ENCODED_MAX 512

/* ---- the device key ----------------------------------------------------------------------- */

static int key_parse_private(const char *pem, size_t len, EVP_PKEY **ret)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *key;

	if (bio == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory reading the device key");
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL || !EVP_PKEY_is_a(key, "ED25519")) {
		EVP_PKEY_free(key);
		return ebcc__error(EBCC_ERR_CORRUPT,
				   "simulated device key %s is not an Ed25519 private key in PEM: %s",
				   EBCC_SIM_DEVICE_KEY_FILE, ebcc__openssl_reason());
	}
	*ret = key;
	return 0;
}

static int key_id(EVP_PKEY *key, uint8_t out[EBCC_SHA256_SIZE]);
static int key_complete(struct ebcc__sim_key *k);

/* The signing key as libsodium holds it (seed, then public key) from the key OpenSSL read. */
static int key_secret(EVP_PKEY *key, uint8_t secret[crypto_sign_SECRETKEYBYTES])
{
	uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	size_t len = sizeof(seed);
	int ok;

	if (sodium_init() < 0)
		return ebcc__error(EBCC_ERR_BACKEND, "libsodium failed to initialise");
	ok = EVP_PKEY_get_raw_private_key(key, seed, &len) == 1 && len == sizeof(seed) &&
	     crypto_sign_seed_keypair(pk, secret, seed) == 0;
	sodium_memzero(seed, sizeof(seed));
	if (!ok)
		return ebcc__error(EBCC_ERR_CORRUPT, "simulated device key %s: no Ed25519 seed: %s",
				   EBCC_SIM_DEVICE_KEY_FILE, ebcc__openssl_reason());
	return 0;
}

/* Reads the key file, its id and its signing secret, from the cache when that very file was
 * decoded before. */
static int key_read(int dir_fd, struct ebcc__sim_key *ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *pem = NULL;
	struct ebcc__sim_key_identity id;
	struct stat st;
	size_t len = 0;
	int r;

	/* The usual case, one fstatat(): the very file this process decoded before. */
	if (fstatat(dir_fd, EBCC_SIM_DEVICE_KEY_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode)) {
		ebcc__sim_key_identity_of(&st, &id);
		if (ebcc__sim_keycache_get(&id, ret))
			return 0;
	}
	fd = openat(dir_fd, EBCC_SIM_DEVICE_KEY_FILE,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return ebcc__error_errno(errno == ELOOP ? EBCC_ERR_PERMISSION
							: ebcc__error_from_errno(errno),
					 errno, "open the simulated device key %s",
					 EBCC_SIM_DEVICE_KEY_FILE);
	if (fstat(fd, &st) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "stat %s", EBCC_SIM_DEVICE_KEY_FILE);
	/* A key another user could have written or read signs nothing. */
	r = ebcc__check_trusted(&st, "the simulated device key " EBCC_SIM_DEVICE_KEY_FILE, true);
	if (r < 0)
		return r;
	ebcc__sim_key_identity_of(&st, &id);
	if (ebcc__sim_keycache_get(&id, ret))
		return 0;
	r = ebcc__read_all(fd, KEY_FILE_MAX, "simulated device key", &pem, &len);
	if (r == 0)
		r = key_parse_private(pem, len, &ret->pkey);
	if (pem != NULL)
		OPENSSL_cleanse(pem, len);
	if (r == 0)
		r = key_complete(ret);
	if (r < 0) {
		ebcc__sim_key_clear(ret);
		return r;
	}
	ebcc__sim_keycache_put(&id, ret);
	return 0;
}

static int key_create(int dir_fd, bool durable, struct ebcc__sim_key *ret)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct ebcc__sim_key_identity id;
	struct stat st;
	BIO *bio = NULL;
	char *data = NULL;
	long len;
	int r;

	if (key == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "generate the simulated device key: %s",
				   ebcc__openssl_reason());
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		EVP_PKEY_free(key);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "encode the simulated device key: %s",
				   ebcc__openssl_reason());
	}
	len = BIO_get_mem_data(bio, &data);
	r = ebcc__file_write_atomic(dir_fd, EBCC_SIM_DEVICE_KEY_FILE, data, (size_t)len, 0600,
				    durable, "simulated device key");
	OPENSSL_cleanse(data, (size_t)len);
	BIO_free(bio);
	ret->pkey = key;
	if (r == 0)
		r = key_complete(ret);
	if (r < 0) {
		ebcc__sim_key_clear(ret);
		return r;
	}
	/* Cached like a key read from the file: the next use in this process decodes nothing. */
	if (fstatat(dir_fd, EBCC_SIM_DEVICE_KEY_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		ebcc__sim_key_identity_of(&st, &id);
		ebcc__sim_keycache_put(&id, ret);
	}
	return 0;
}

/* The device key, created on first use. Two processes racing to create it end up with one:
 * creation happens under an exclusive lock, after a second look. */
static int key_load(int dir_fd, bool durable, struct ebcc__sim_key *ret)
{
	_cleanup_close_ int lock = -1;
	int r;

	*ret = (struct ebcc__sim_key){ 0 };
	if (dir_fd < 0)
		return ebcc__error(EBCC_ERR_UNAVAILABLE,
				   "no state root: the simulated device key lives under it");
	r = key_read(dir_fd, ret);
	if (r != EBCC_ERR_NOT_FOUND)
		return r;
	lock = openat(dir_fd, EBCC_SIM_DEVICE_KEY_LOCK,
		      O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (lock < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "open %s",
					 EBCC_SIM_DEVICE_KEY_LOCK);
	while (flock(lock, LOCK_EX) < 0)
		if (errno != EINTR)
			return ebcc__error_errno(EBCC_ERR_IO, errno, "lock %s",
						 EBCC_SIM_DEVICE_KEY_LOCK);
	r = key_read(dir_fd, ret);
	if (r != EBCC_ERR_NOT_FOUND)
		return r;
	return key_create(dir_fd, durable, ret);
}

static int key_id(EVP_PKEY *key, uint8_t out[EBCC_SHA256_SIZE])
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(key, &der);
	int r;

	if (len <= 0)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "encode a public key: %s", ebcc__openssl_reason());
	r = ebcc__sha256(der, (size_t)len, out);
	OPENSSL_free(der);
	return r;
}

/* The id and the signing secret of a key OpenSSL holds. */
static int key_complete(struct ebcc__sim_key *k)
{
	int r = key_id(k->pkey, k->key_id);

	return r < 0 ? r : key_secret(k->pkey, k->secret);
}

void ebcc__sim_key_clear(struct ebcc__sim_key *k)
{
	EVP_PKEY_free(k->pkey);
	sodium_memzero(k, sizeof(*k));
}

int ebcc__sim_key_public_pem(int data_dir_fd, bool durable, char **ret_pem)
{
	struct ebcc__sim_key key;
	BIO *bio;
	char *data = NULL, *pem;
	long len;
	int r;

	r = key_load(data_dir_fd, durable, &key);
	if (r < 0)
		return r;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_PUBKEY(bio, key.pkey) != 1) {
		BIO_free(bio);
		ebcc__sim_key_clear(&key);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "encode the device public key: %s",
				   ebcc__openssl_reason());
	}
	ebcc__sim_key_clear(&key);
	len = BIO_get_mem_data(bio, &data);
	pem = strndup(data, (size_t)len);
	BIO_free(bio);
	if (pem == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	*ret_pem = pem;
	return 0;
}

/* ---- the monitor's signer and the reports it makes ---------------------------------------- */

int ebcc__sim_signer_init(int data_dir_fd, bool durable, const char *measurement, uint64_t eid,
			  struct ebcc__sim_signer *ret)
{
	struct ebcc__sim_key key;
	int r;

	if (strlen(measurement) > MEASUREMENT_MAX)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "measurement is too long for a report");
	r = key_load(data_dir_fd, durable, &key);
	if (r < 0)
		return r;
	*ret = (struct ebcc__sim_signer){ .eid = eid };
	memcpy(ret->secret, key.secret, sizeof(ret->secret));
	memcpy(ret->key_id, key.key_id, sizeof(ret->key_id));
	memcpy(ret->measurement, measurement, strlen(measurement));
	ebcc__sim_key_clear(&key);
	return 0;
}

void ebcc__sim_signer_clear(struct ebcc__sim_signer *s)
{
	sodium_memzero(s, sizeof(*s));
}

int ebcc__sim_key_id(int data_dir_fd, bool durable, uint8_t ret[EBCC_SHA256_SIZE])
{
	struct ebcc__sim_key key;
	int r = key_load(data_dir_fd, durable, &key);

	if (r == 0)
		memcpy(ret, key.key_id, EBCC_SHA256_SIZE);
	ebcc__sim_key_clear(&key);
	return r;
}

/* A bounded buffer: the monitor runs in a process forked from a threaded embedder, so nothing
 * here allocates. */
struct buf {
	uint8_t data[ENCODED_MAX];
	size_t len;
	bool failed;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->failed || n > sizeof(b->data) - b->len) {
		b->failed = true;
		return;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put_le(struct buf *b, uint64_t v, size_t bytes)
{
	uint8_t raw[8];

	for (size_t i = 0; i < bytes; i++)
		raw[i] = (uint8_t)(v >> (8 * i));
	put(b, raw, bytes);
}

/* Field of the signed message: 4-byte length, then the bytes. */
static void put_field(struct buf *b, const void *p, size_t n)
{
	put_le(b, n, 4);
	put(b, p, n);
}

/* The canonical bytes the signature of a report of this version covers. */
static void signed_message(int version, const char *measurement, size_t measurement_len,
			   uint64_t eid, const uint8_t *rd, size_t rd_len,
			   const uint8_t kid[EBCC_SHA256_SIZE], struct buf *out)
{
	const char *domain = version == REPORT_V1 ? DOMAIN_V1 : DOMAIN_V2;
	uint8_t eid_raw[8];

	for (size_t i = 0; i < 8; i++)
		eid_raw[i] = (uint8_t)(eid >> (8 * i));
	out->len = 0;
	out->failed = false;
	put_field(out, domain, strlen(domain));
	put_field(out, EBCC_SIM_FORMAT, strlen(EBCC_SIM_FORMAT));
	put_field(out, measurement, measurement_len);
	put_field(out, eid_raw, sizeof(eid_raw));
	put_field(out, rd, rd_len);
	put_field(out, kid, EBCC_SHA256_SIZE);
}

size_t ebcc__sim_report_make(const struct ebcc__sim_signer *s, const uint8_t *report_data,
			     size_t report_data_len, uint8_t *out, size_t cap)
{
	size_t measurement_len = strnlen(s->measurement, sizeof(s->measurement));
	uint8_t sig[crypto_sign_BYTES];
	struct buf msg, rep;

	if (report_data_len == 0 || report_data_len > EBCC_SIM_REPORT_DATA_MAX)
		return 0;
	signed_message(REPORT_V2, s->measurement, measurement_len, s->eid, report_data,
		       report_data_len, s->key_id, &msg);
	if (msg.failed || crypto_sign_detached(sig, NULL, msg.data, msg.len, s->secret) != 0)
		return 0;
	rep.len = 0;
	rep.failed = false;
	put(&rep, REPORT_MAGIC, 4);
	put_le(&rep, REPORT_V2, 1);
	put_le(&rep, 0, 1);
	put_le(&rep, strlen(EBCC_SIM_FORMAT), 2);
	put(&rep, EBCC_SIM_FORMAT, strlen(EBCC_SIM_FORMAT));
	put_le(&rep, measurement_len, 2);
	put(&rep, s->measurement, measurement_len);
	put_le(&rep, s->eid, 8);
	put_le(&rep, report_data_len, 2);
	put(&rep, report_data, report_data_len);
	put(&rep, s->key_id, EBCC_SHA256_SIZE);
	put_le(&rep, sizeof(sig), 2);
	put(&rep, sig, sizeof(sig));
	if (rep.failed || rep.len > cap)
		return 0;
	memcpy(out, rep.data, rep.len);
	return rep.len;
}

/* ---- parsing and verification -------------------------------------------------------------- */

struct parsed {
	int version;
	const uint8_t *format, *measurement, *report_data, *key_id, *sig;
	size_t format_len, measurement_len, report_data_len, sig_len;
	uint64_t eid;
};

struct reader {
	const uint8_t *p;
	size_t left;
	const char *failed; /* what could not be read */
};

static const uint8_t *take(struct reader *r, size_t n, const char *what)
{
	const uint8_t *p = r->p;

	if (r->failed != NULL)
		return NULL;
	if (n > r->left) {
		r->failed = what;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static uint64_t take_le(struct reader *r, size_t bytes, const char *what)
{
	const uint8_t *p = take(r, bytes, what);
	uint64_t v = 0;

	for (size_t i = 0; p != NULL && i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static const uint8_t *take_var(struct reader *r, size_t max, size_t *ret_len, const char *what)
{
	size_t n = (size_t)take_le(r, 2, what);

	if (r->failed == NULL && n > max) {
		r->failed = what;
		return NULL;
	}
	*ret_len = n;
	return take(r, n, what);
}

static int parse_report(const uint8_t *data, size_t len, struct parsed *out)
{
	struct reader r = { .p = data, .left = len };
	const uint8_t *magic = take(&r, 4, "magic");
	uint64_t version = take_le(&r, 1, "version"), reserved = take_le(&r, 1, "reserved byte");

	if (r.failed == NULL && memcmp(magic, REPORT_MAGIC, 4) != 0)
		return ebcc__error(EBCC_ERR_VERIFY, "report is not a sim report (bad magic)");
	if (r.failed == NULL && version != REPORT_V1 && version != REPORT_V2)
		return ebcc__error(EBCC_ERR_VERIFY, "sim report version %" PRIu64 " is not %d or %d",
				   version, REPORT_V1, REPORT_V2);
	out->version = (int)version;
	if (r.failed == NULL && reserved != 0)
		return ebcc__error(EBCC_ERR_VERIFY, "sim report has a non-zero reserved byte");
	out->format = take_var(&r, FORMAT_MAX, &out->format_len, "format");
	out->measurement = take_var(&r, MEASUREMENT_MAX, &out->measurement_len, "measurement");
	out->eid = take_le(&r, 8, "eid");
	out->report_data = take_var(&r, EBCC_SIM_REPORT_DATA_MAX, &out->report_data_len,
				    "report_data");
	out->key_id = take(&r, EBCC_SHA256_SIZE, "key id");
	out->sig = take_var(&r, SIG_MAX, &out->sig_len, "signature");
	if (r.failed != NULL)
		return ebcc__error(EBCC_ERR_VERIFY,
				   "sim report is malformed: its %s is truncated or too long",
				   r.failed);
	if (r.left != 0)
		return ebcc__error(EBCC_ERR_VERIFY, "sim report has %zu trailing bytes", r.left);
	if (out->report_data_len == 0)
		return ebcc__error(EBCC_ERR_VERIFY, "sim report covers no report_data");
	return 0;
}

static bool same_text(const uint8_t *p, size_t len, const char *text)
{
	return text != NULL && strlen(text) == len && memcmp(p, text, len) == 0;
}

/* A trusted key of the kind that signs reports of this version: ECDSA P-256 (version 1) or
 * Ed25519 (version 2). The trusted key decides the algorithm, never the report. */
static int public_key_parse(const char *pem, size_t index, int version, EVP_PKEY **ret)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key;
	char group[64] = "";
	bool fits;

	if (bio == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL)
		return ebcc__error(EBCC_ERR_VERIFY, "trusted_keys[%zu] is not a PEM public key: %s",
				   index, ebcc__openssl_reason());
	if (version == REPORT_V1)
		fits = EVP_PKEY_is_a(key, "EC") &&
		       EVP_PKEY_get_group_name(key, group, sizeof(group), NULL) == 1 &&
		       strcmp(group, "prime256v1") == 0;
	else
		fits = EVP_PKEY_is_a(key, "ED25519");
	ERR_clear_error();
	if (!fits) {
		EVP_PKEY_free(key);
		*ret = NULL;
		return 0;
	}
	*ret = key;
	return 0;
}

/* Whether sig is key's signature of msg: ECDSA with SHA-256 (version 1) or Ed25519. */
static bool signature_valid(EVP_PKEY *key, int version, const uint8_t *sig, size_t sig_len,
			    const struct buf *msg)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md != NULL &&
		  EVP_DigestVerifyInit(md, NULL, version == REPORT_V1 ? ebcc__md_sha256() : NULL,
				       NULL, key) == 1 &&
		  EVP_DigestVerify(md, sig, sig_len, msg->data, msg->len) == 1;

	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

static int verdict_json(const struct parsed *p, size_t key_index, char **ret)
{
	char kid[2 * EBCC_SHA256_SIZE + 8];
	struct json_object *o = json_object_new_object(), *checked = json_object_new_array();
	static const char *const names[] = { "format", "measurement", "eid", "report_data",
					     "signature" };
	int r;

	if (o == NULL || checked == NULL) {
		json_object_put(o);
		json_object_put(checked);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	memcpy(kid, "sha256:", 7);
	ebcc__hex_encode(p->key_id, EBCC_SHA256_SIZE, kid + 7);
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(names); i++)
		json_object_array_add(checked, json_object_new_string(names[i]));
	json_object_object_add(o, "format", json_object_new_string(EBCC_SIM_FORMAT));
	json_object_object_add(o, "simulated", json_object_new_boolean(1));
	json_object_object_add(o, "hardware_root_of_trust", json_object_new_boolean(0));
	json_object_object_add(o, "signature", json_object_new_string("valid"));
	json_object_object_add(o, "report_version", json_object_new_int(p->version));
	json_object_object_add(o, "signature_algorithm",
			       json_object_new_string(p->version == REPORT_V1 ? "ECDSA P-256 SHA-256"
									 : "Ed25519"));
	json_object_object_add(o, "key_id", json_object_new_string(kid));
	json_object_object_add(o, "trusted_key_index", json_object_new_int64((int64_t)key_index));
	json_object_object_add(o, "checked", checked);
	json_object_object_add(
		o, "note",
		json_object_new_string("a simulated device key signed this report; it proves what "
				       "the holder of that key claims, not what hardware measured"));
	r = ebcc__json_to_string(o, JSON_C_TO_STRING_PLAIN, ret);
	json_object_put(o);
	return r;
}

int ebcc__sim_report_verify(const struct ebcc_backend_report_check *check, char **ret_verdict)
{
	struct parsed p = { 0 };
	struct buf msg;
	char kid_hex[2 * EBCC_SHA256_SIZE + 1];
	bool kid_seen = false;
	int r;

	if (check->report == NULL || check->report_data == NULL)
		return ebcc__error(EBCC_ERR_VERIFY, "no report or no report_data to check");
	r = parse_report(check->report, check->report_len, &p);
	if (r < 0)
		return r;
	if (!same_text(p.format, p.format_len, EBCC_SIM_FORMAT) ||
	    !same_text(p.format, p.format_len, check->format))
		return ebcc__error(EBCC_ERR_VERIFY,
				   "report format does not match: the evidence says \"%s\", the "
				   "report says \"%.*s\" (sim reports are %s)",
				   check->format != NULL ? check->format : "(none)",
				   (int)p.format_len, (const char *)p.format, EBCC_SIM_FORMAT);
	if (!same_text(p.measurement, p.measurement_len, check->measurement))
		return ebcc__error(EBCC_ERR_VERIFY,
				   "report measurement \"%.*s\" does not match the evidence's \"%s\"",
				   (int)p.measurement_len, (const char *)p.measurement,
				   check->measurement != NULL ? check->measurement : "(none)");
	if (p.eid != check->eid)
		return ebcc__error(EBCC_ERR_VERIFY,
				   "report is for EID %" PRIu64 ", the evidence claims EID %" PRIu64,
				   p.eid, check->eid);
	if (p.report_data_len != check->report_data_len ||
	    memcmp(p.report_data, check->report_data, p.report_data_len) != 0)
		return ebcc__error(EBCC_ERR_VERIFY,
				   "report covers other report_data than the evidence's fields give");
	if (check->trusted_keys == NULL || check->trusted_keys_count == 0)
		return ebcc__error(EBCC_ERR_VERIFY,
				   "policy gives no trusted_keys: a sim report can only be checked "
				   "against a device key you trust (ebcc_backend_attestation_key)");

	signed_message(p.version, check->measurement, strlen(check->measurement), p.eid,
		       p.report_data, p.report_data_len, p.key_id, &msg);
	if (msg.failed)
		return ebcc__error(EBCC_ERR_VERIFY, "sim report: its claims are too long");
	ebcc__hex_encode(p.key_id, EBCC_SHA256_SIZE, kid_hex);
	for (size_t i = 0; i < check->trusted_keys_count; i++) {
		uint8_t kid[EBCC_SHA256_SIZE];
		EVP_PKEY *key = NULL;
		bool ok;

		if (check->trusted_keys[i] == NULL)
			return ebcc__error(EBCC_ERR_VERIFY, "trusted_keys[%zu] is NULL", i);
		r = public_key_parse(check->trusted_keys[i], i, p.version, &key);
		if (r == 0 && key != NULL)
			r = key_id(key, kid);
		if (r < 0) {
			EVP_PKEY_free(key);
			return r;
		}
		if (key == NULL || memcmp(kid, p.key_id, sizeof(kid)) != 0) {
			EVP_PKEY_free(key);
			continue;
		}
		kid_seen = true;
		ok = signature_valid(key, p.version, p.sig, p.sig_len, &msg);
		EVP_PKEY_free(key);
		if (ok)
			return verdict_json(&p, i, ret_verdict);
	}
	if (kid_seen)
		return ebcc__error(EBCC_ERR_VERIFY,
				   "report signature does not verify with the trusted key "
				   "sha256:%s that it names",
				   kid_hex);
	return ebcc__error(EBCC_ERR_VERIFY,
			   "report (version %d: signed with %s) is signed by key sha256:%s, which "
			   "is not among the %zu trusted_keys",
			   p.version, p.version == REPORT_V1 ? "ECDSA P-256" : "Ed25519", kid_hex,
			   check->trusted_keys_count);
}

int ebcc__sim_report_check(const uint8_t *report, size_t report_len, const char *measurement,
			   uint64_t eid, const uint8_t *report_data, size_t report_data_len,
			   const uint8_t key_id[EBCC_SHA256_SIZE])
{
	struct parsed p = { 0 };
	int r = parse_report(report, report_len, &p);

	if (r < 0)
		return ebcc__error(EBCC_ERR_STAGE, "its report is not the monitor's: %s",
				   ebcc__error_message());
	if (p.version != REPORT_V2 || !same_text(p.format, p.format_len, EBCC_SIM_FORMAT) ||
	    !same_text(p.measurement, p.measurement_len, measurement) || p.eid != eid ||
	    p.report_data_len != report_data_len ||
	    memcmp(p.report_data, report_data, report_data_len) != 0 ||
	    memcmp(p.key_id, key_id, EBCC_SHA256_SIZE) != 0)
		return ebcc__error(EBCC_ERR_STAGE,
				   "its report is not the monitor's for this stage and answer (other "
				   "version, measurement, EID, report_data or key)");
	return 0;
}
