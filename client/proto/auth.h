/* Authentication extensions (RFC 5944 §3.5, RFC 3012): computing and verifying
 * authenticators over the message, all prior extensions and the extension's
 * own type, length and SPI. HMAC-MD5 is RFC 5944's default; keyed-MD5
 * "prefix+suffix" (RFC 2002/3344) is still used in the field. OpenSSL EVP. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "extensions.h"
#include "writer.h"

enum { MIP_AUTH_MD5_LEN = 16, MIP_SPI_MIN = 256 };

/* CHAP_SPI (RFC 3012 §9): the one reserved SPI accepted, and only in the MN-AAA
 * extension, where it names exactly the RFC 3012 §8 computation. */
enum { MIP_SPI_CHAP = 2 };

typedef enum MipAuthAlgorithm {
    MIP_AUTH_HMAC_MD5,
    MIP_AUTH_KEYED_MD5,   /* MD5(key || data || key) */
} MipAuthAlgorithm;

/* A security association. The key bytes stay the caller's. */
typedef struct MipAuthKey {
    uint32_t spi;
    MipAuthAlgorithm algorithm;
    const uint8_t *key;
    size_t key_len;
} MipAuthKey;

/* Appends authentication extension ext_type (32, 33 or 34) covering everything
 * already in w. */
MipProtoError mip_auth_write(MipWriter *w, uint8_t ext_type, const MipAuthKey *key);

/* Appends a generalized MN-AAA authentication extension (36, subtype 1) whose
 * authenticator is computed as RFC 3012 §8 describes, with the challenge the
 * foreign agent sent. §8 fixes the algorithm (MD5), so key->algorithm is not
 * used; key->spi may be MIP_SPI_CHAP or >= MIP_SPI_MIN. */
MipProtoError mip_auth_write_mn_aaa(MipWriter *w, const MipAuthKey *key,
                                    const uint8_t *challenge, size_t challenge_len);

/* Verifies one decoded authentication extension of msg[0..len). Returns
 * MIP_ERR_AUTH_MISSING if !view->present, MIP_ERR_SPI_RESERVED,
 * MIP_ERR_SPI_MISMATCH, or MIP_ERR_AUTH_MISMATCH (constant-time compare). */
MipProtoError mip_auth_verify(const uint8_t *msg, size_t len,
                              const MipAuthExtView *view, const MipAuthKey *key);

/* As mip_auth_verify for the MHAE, and also requires that nothing follows it
 * but what a foreign agent may add: authentication extensions for other
 * parties (33, 34, 36) and a fresh MN-FA challenge (132). What a mobile node
 * checks on a reply. */
MipProtoError mip_auth_verify_mh(const uint8_t *msg, size_t len,
                                 const MipRegExtensions *ext, const MipAuthKey *key);

/* Raw authenticator computation over data[0..len): out gets 16 bytes. */
MipProtoError mip_auth_compute(MipAuthAlgorithm alg, const uint8_t *key, size_t key_len,
                               const uint8_t *data, size_t len,
                               uint8_t out[MIP_AUTH_MD5_LEN]);
