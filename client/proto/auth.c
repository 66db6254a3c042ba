/* Authentication extensions (RFC 5944 §3.5, RFC 3012 §8): HMAC-MD5 and keyed
 * MD5 over the message, every prior extension and this extension's type,
 * length and SPI, through OpenSSL 3 EVP; constant-time verification. */
#include "auth.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "bytes.h"
#include "registration.h"

enum {
    SHORT_AUTH_HDR = 2 + 4, /* type, length, SPI */
    LONG_AUTH_HDR = 4 + 4,  /* type, subtype, 16-bit length, SPI */
    CHAP_CHALLENGE_TAIL = 237,
};

static MipProtoError hmac_md5(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                              uint8_t out[MIP_AUTH_MD5_LEN])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"MD5", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t out_len = 0;
    int ok = ctx != NULL && EVP_MAC_init(ctx, key, key_len, params) == 1 &&
             (len == 0 || EVP_MAC_update(ctx, data, len) == 1) &&
             EVP_MAC_final(ctx, out, &out_len, MIP_AUTH_MD5_LEN) == 1 &&
             out_len == MIP_AUTH_MD5_LEN;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? MIP_OK : MIP_ERR_CRYPTO;
}

/* One MD5 over up to four pieces: keyed MD5 and RFC 3012 §8 both hash a
 * concatenation that is never contiguous in memory. */
typedef struct Piece {
    const uint8_t *p;
    size_t n;
} Piece;

static MipProtoError md5_pieces(const Piece *pieces, size_t n_pieces, uint8_t out[MIP_AUTH_MD5_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned out_len = 0;
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1;
    for (size_t i = 0; ok && i < n_pieces; i++)
        if (pieces[i].n > 0)
            ok = EVP_DigestUpdate(ctx, pieces[i].p, pieces[i].n) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &out_len) == 1 && out_len == MIP_AUTH_MD5_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? MIP_OK : MIP_ERR_CRYPTO;
}

MipProtoError mip_auth_compute(MipAuthAlgorithm alg, const uint8_t *key, size_t key_len,
                               const uint8_t *data, size_t len, uint8_t out[MIP_AUTH_MD5_LEN])
{
    /* An empty key is no security association at all. */
    if (key == NULL || key_len == 0 || (data == NULL && len > 0) || out == NULL)
        return MIP_ERR_BAD_VALUE;
    switch (alg) {
    case MIP_AUTH_HMAC_MD5:
        return hmac_md5(key, key_len, data, len, out);
    case MIP_AUTH_KEYED_MD5: {
        const Piece pieces[] = {{key, key_len}, {data, len}, {key, key_len}};
        return md5_pieces(pieces, 3, out);
    }
    }
    return MIP_ERR_BAD_VALUE;
}

/* RFC 3012 §8: MD5(challenge[0] || key || MD5(data) || last 237 octets of the
 * challenge). A challenge shorter than 238 octets is used whole, so its first
 * octet counts twice, exactly as the RFC says. */
static MipProtoError mn_aaa_compute(const MipAuthKey *key, const uint8_t *data, size_t len,
                                    const uint8_t *challenge, size_t challenge_len,
                                    uint8_t out[MIP_AUTH_MD5_LEN])
{
    uint8_t inner[MIP_AUTH_MD5_LEN];
    const Piece inner_piece = {data, len};
    MipProtoError err = md5_pieces(&inner_piece, 1, inner);
    if (err != MIP_OK)
        return err;
    size_t tail = challenge_len < CHAP_CHALLENGE_TAIL ? challenge_len : CHAP_CHALLENGE_TAIL;
    const Piece pieces[] = {
        {challenge, 1},
        {key->key, key->key_len},
        {inner, sizeof(inner)},
        {challenge + challenge_len - tail, tail},
    };
    return md5_pieces(pieces, 4, out);
}

static bool key_usable(const MipAuthKey *key)
{
    return key != NULL && key->key != NULL && key->key_len > 0 &&
           (key->algorithm == MIP_AUTH_HMAC_MD5 || key->algorithm == MIP_AUTH_KEYED_MD5);
}

static bool mn_aaa_spi_allowed(uint32_t spi)
{
    return spi == MIP_SPI_CHAP || spi >= MIP_SPI_MIN;
}

MipProtoError mip_auth_write(MipWriter *w, uint8_t ext_type, const MipAuthKey *key)
{
    if (w == NULL || key == NULL)
        return MIP_ERR_BAD_VALUE;
    if (ext_type != MIP_EXT_MH_AUTH && ext_type != MIP_EXT_MF_AUTH && ext_type != MIP_EXT_FH_AUTH)
        return MIP_ERR_BAD_VALUE;
    if (key->spi < MIP_SPI_MIN)
        return MIP_ERR_SPI_RESERVED;
    if (!key_usable(key))
        return MIP_ERR_BAD_VALUE;
    size_t start = w->len;
    uint8_t *p = mip_writer_reserve(w, SHORT_AUTH_HDR + MIP_AUTH_MD5_LEN);
    if (p == NULL)
        return MIP_ERR_NO_SPACE;
    p[0] = ext_type;
    p[1] = 4 + MIP_AUTH_MD5_LEN;
    mip_store_be32(p + 2, key->spi);
    MipProtoError err = mip_auth_compute(key->algorithm, key->key, key->key_len, w->buf,
                                         start + SHORT_AUTH_HDR, p + SHORT_AUTH_HDR);
    if (err != MIP_OK)
        w->len = start;
    return err;
}

MipProtoError mip_auth_write_mn_aaa(MipWriter *w, const MipAuthKey *key, const uint8_t *challenge,
                                    size_t challenge_len)
{
    if (w == NULL || key == NULL || challenge == NULL)
        return MIP_ERR_BAD_VALUE;
    if (challenge_len == 0)
        return MIP_ERR_BAD_LENGTH;
    if (!mn_aaa_spi_allowed(key->spi))
        return MIP_ERR_SPI_RESERVED;
    if (!key_usable(key))
        return MIP_ERR_BAD_VALUE;
    size_t start = w->len;
    uint8_t *p = mip_writer_reserve(w, LONG_AUTH_HDR + MIP_AUTH_MD5_LEN);
    if (p == NULL)
        return MIP_ERR_NO_SPACE;
    p[0] = MIP_EXT_GEN_AUTH;
    p[1] = MIP_GEN_AUTH_SUBTYPE_MN_AAA;
    mip_store_be16(p + 2, 4 + MIP_AUTH_MD5_LEN);
    mip_store_be32(p + 4, key->spi);
    MipProtoError err = mn_aaa_compute(key, w->buf, start + LONG_AUTH_HDR, challenge, challenge_len,
                                       p + LONG_AUTH_HDR);
    if (err != MIP_OK)
        w->len = start;
    return err;
}

/* The MN-FA challenge an MN-AAA authenticator answers is the one carried
 * earlier in the same message (RFC 3012 §3.1). */
static MipProtoError find_challenge(const uint8_t *msg, size_t len, size_t before,
                                    const uint8_t **challenge, size_t *challenge_len)
{
    size_t fixed;
    if (msg[0] == MIP_MSG_REG_REQUEST)
        fixed = MIP_REG_REQUEST_LEN;
    else if (msg[0] == MIP_MSG_REG_REPLY)
        fixed = MIP_REG_REPLY_LEN;
    else
        return MIP_ERR_BAD_TYPE;
    MipRegExtensions ext;
    MipProtoError err = mip_ext_parse(msg, fixed, len, &ext);
    if (err != MIP_OK)
        return err;
    if (ext.challenge == NULL)
        return MIP_ERR_AUTH_MISSING;
    if ((size_t)(ext.challenge - msg) >= before)
        return MIP_ERR_EXTENSION_ORDER;
    *challenge = ext.challenge;
    *challenge_len = ext.challenge_len;
    return MIP_OK;
}

/* A view must describe msg itself: the authenticator is read from msg, never
 * through the view's pointer, so a view of another buffer cannot mislead. */
static MipProtoError view_check(const uint8_t *msg, size_t len, const MipAuthExtView *view)
{
    size_t hdr = view->type == MIP_EXT_GEN_AUTH ? LONG_AUTH_HDR : SHORT_AUTH_HDR;
    if (view->end > len || view->offset >= view->end || view->covered_len != view->offset + hdr ||
        view->end != view->covered_len + view->authenticator_len)
        return MIP_ERR_BAD_LENGTH;
    if (msg[view->offset] != view->type || mip_load_be32(msg + view->covered_len - 4) != view->spi)
        return MIP_ERR_BAD_VALUE;
    return MIP_OK;
}

MipProtoError mip_auth_verify(const uint8_t *msg, size_t len, const MipAuthExtView *view,
                              const MipAuthKey *key)
{
    if (view == NULL || !view->present)
        return MIP_ERR_AUTH_MISSING;
    if (msg == NULL || key == NULL)
        return MIP_ERR_BAD_VALUE;
    bool mn_aaa = view->type == MIP_EXT_GEN_AUTH;
    if (mn_aaa ? !mn_aaa_spi_allowed(view->spi) : view->spi < MIP_SPI_MIN)
        return MIP_ERR_SPI_RESERVED;
    if (view->spi != key->spi)
        return MIP_ERR_SPI_MISMATCH;
    if (!key_usable(key))
        return MIP_ERR_BAD_VALUE;
    MipProtoError err = view_check(msg, len, view);
    if (err != MIP_OK)
        return err;
    if (view->authenticator_len != MIP_AUTH_MD5_LEN)
        return MIP_ERR_AUTH_MISMATCH;

    uint8_t expect[MIP_AUTH_MD5_LEN];
    if (mn_aaa) {
        const uint8_t *challenge = NULL;
        size_t challenge_len = 0;
        err = find_challenge(msg, len, view->offset, &challenge, &challenge_len);
        if (err == MIP_OK)
            err = mn_aaa_compute(key, msg, view->covered_len, challenge, challenge_len, expect);
    } else {
        err = mip_auth_compute(key->algorithm, key->key, key->key_len, msg, view->covered_len,
                               expect);
    }
    if (err != MIP_OK)
        return err;
    if (CRYPTO_memcmp(expect, msg + view->covered_len, MIP_AUTH_MD5_LEN) != 0)
        return MIP_ERR_AUTH_MISMATCH;
    return MIP_OK;
}

static const MipAuthExtView *view_at(const MipRegExtensions *ext, size_t off)
{
    const MipAuthExtView *others[] = {&ext->mf, &ext->fh, &ext->mn_aaa};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        if (others[i]->present && others[i]->offset == off && others[i]->end > off)
            return others[i];
    return NULL;
}

MipProtoError mip_auth_verify_mh(const uint8_t *msg, size_t len, const MipRegExtensions *ext,
                                 const MipAuthKey *key)
{
    if (ext == NULL || !ext->mh.present)
        return MIP_ERR_AUTH_MISSING;
    if (ext->total_len != len)
        return MIP_ERR_BAD_LENGTH;
    /* Anything after the MHAE is unprotected from the home agent; only what
     * a foreign agent adds may sit there: authenticators for other parties
     * (RFC 5944 §3.6.1.3) and a fresh MN-FA challenge (RFC 3012 §3.2). */
    size_t challenge_off = ext->challenge ? (size_t)(ext->challenge - msg) - 2 : 0;
    for (size_t off = ext->mh.end; off < len;) {
        const MipAuthExtView *next = view_at(ext, off);
        if (next != NULL) {
            off = next->end;
        } else if (ext->challenge && off == challenge_off) {
            off = challenge_off + 2 + ext->challenge_len;
        } else {
            return MIP_ERR_AUTH_NOT_LAST;
        }
    }
    return mip_auth_verify(msg, len, &ext->mh, key);
}
