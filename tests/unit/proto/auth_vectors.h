/* Hand-written authentication extension bytes (RFC 5944 §3.5.2-3.5.4, RFC 3012
 * §5) for the auth tests. Authenticator octets are left zero here: each test
 * fills them with a digest it computes itself through OpenSSL's one-shot
 * HMAC() or MD5(), never through the library under test. */
#pragma once

#include <stdint.h>

enum { AUTH_LEN = 16 };

static const uint8_t key_a[] = {0x6b, 0x65, 0x79, 0x2d, 0x61, 0x2d, 0x30, 0x31, /* "key-a-01" */
                                0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33};
static const uint8_t key_b[] = {0x6b, 0x65, 0x79, 0x2d, 0x62}; /* "key-b" */

static const uint8_t mhae_256[] = {
    0x20,                   /* Type: 32, mobile-home authentication */
    0x14,                   /* Length: 4 (SPI) + 16 */
    0x00, 0x00, 0x01, 0x00, /* SPI: 256 */
    0,    0,    0,    0,    0, 0, 0, 0,
    0,    0,    0,    0,    0, 0, 0, 0, /* Authenticator: filled by the test */
};

static const uint8_t mfae_300[] = {
    0x21,                   /* Type: 33, mobile-foreign authentication */
    0x14,                   /* Length: 20 */
    0x00, 0x00, 0x01, 0x2c, /* SPI: 300 */
    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* Authenticator */
};

static const uint8_t fhae_301[] = {
    0x22,                   /* Type: 34, foreign-home authentication */
    0x14,                   /* Length: 20 */
    0x00, 0x00, 0x01, 0x2d, /* SPI: 301 */
    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* Authenticator */
};

static const uint8_t mn_aaa_chap[] = {
    0x24,                   /* Type: 36, generalized authentication */
    0x01,                   /* Subtype: 1, MN-AAA */
    0x00, 0x14,             /* Length: 4 (SPI) + 16 */
    0x00, 0x00, 0x00, 0x02, /* SPI: 2, CHAP_SPI (RFC 3012 §9) */
    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* Authenticator */
};

static const uint8_t reply_head[] = {
    0x03,                                           /* Type: 3, registration reply */
    0x00,                                           /* Code: 0, accepted */
    0x02, 0x58,                                     /* Lifetime: 600 s */
    0xc6, 0x12, 0x00, 0x32,                         /* Home Address: 198.18.0.50 */
    0xc6, 0x12, 0x00, 0x01,                         /* Home Agent: 198.18.0.1 */
    0xe8, 0xfe, 0x1c, 0x80, 0x80, 0x00, 0x0a, 0xbc, /* Identification */
};
