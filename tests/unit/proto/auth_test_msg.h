/* A message under construction for the auth tests, and the independent
 * authenticator oracles (OpenSSL one-shot HMAC() and MD5()). */
#pragma once

#define OPENSSL_SUPPRESS_DEPRECATED /* MD5() is the independent oracle here */
#include <glib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <string.h>

typedef struct Msg {
    uint8_t b[1024];
    size_t len;
} Msg;

/* Appends n hand-written bytes; returns where they start. */
static inline size_t msg_add(Msg *m, const uint8_t *bytes, size_t n)
{
    g_assert_cmpuint(m->len + n, <=, sizeof(m->b));
    memcpy(m->b + m->len, bytes, n);
    m->len += n;
    return m->len - n;
}

/* RFC 5944 §3.5.1: HMAC-MD5 over everything up to and including this
 * extension's SPI, written into the 16 octets after it. */
static inline void msg_fill_hmac(Msg *m, size_t covered, const uint8_t *key, size_t key_len)
{
    unsigned md_len = 0;
    g_assert_nonnull(HMAC(EVP_md5(), key, (int)key_len, m->b, covered, m->b + covered, &md_len));
    g_assert_cmpuint(md_len, ==, 16);
}

/* Keyed MD5 "prefix+suffix": MD5(key || data || key). */
static inline void msg_fill_keyed_md5(Msg *m, size_t covered, const uint8_t *key, size_t key_len)
{
    uint8_t joined[2048];
    memcpy(joined, key, key_len);
    memcpy(joined + key_len, m->b, covered);
    memcpy(joined + key_len + covered, key, key_len);
    MD5(joined, key_len + covered + key_len, m->b + covered);
}

/* RFC 3012 §8: MD5(challenge[0] || key || MD5(data || type subtype length
 * SPI) || the last 237 octets of the challenge, or all of a shorter one). */
static inline void msg_fill_mn_aaa(Msg *m, size_t covered, const uint8_t *key, size_t key_len,
                                   const uint8_t *ch, size_t ch_len)
{
    uint8_t inner[16];
    MD5(m->b, covered, inner);
    size_t tail = ch_len < 237 ? ch_len : 237;
    uint8_t joined[1 + 64 + 16 + 237];
    size_t n = 0;
    joined[n++] = ch[0];
    memcpy(joined + n, key, key_len);
    n += key_len;
    memcpy(joined + n, inner, 16);
    n += 16;
    memcpy(joined + n, ch + ch_len - tail, tail);
    n += tail;
    MD5(joined, n, m->b + covered);
}
