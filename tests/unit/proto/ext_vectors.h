/* Hand-written registration request head and extension bytes, laid out field
 * by field from RFC 5944, 2794, 3012, 3519 and 3543; shared by the extension
 * tests. Never produced by the encoders they check. */
#pragma once

#include <stdint.h>

static const uint8_t req_head[] = {
    0x01, 0x02, 0x02, 0x58,                         /* Type 1, Flags T, Lifetime 600 */
    0xc6, 0x12, 0x00, 0x32,                         /* Home Address 198.18.0.50 */
    0xc6, 0x12, 0x00, 0x01,                         /* Home Agent 198.18.0.1 */
    0xcb, 0x00, 0x71, 0x07,                         /* Care-of Address 203.0.113.7 */
    0xe8, 0xfe, 0x1c, 0x80, 0x80, 0x00, 0x0a, 0xbc, /* Identification */
};

static const uint8_t ext_nai[] = {
    0x83, /* Type: 131, mobile node NAI (RFC 2794) */
    0x0e, /* Length: 14 */
    'm',  'n', '@', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'n', 'e', 't',
};
static const uint8_t ext_challenge[] = {
    0x84,                                           /* Type: 132, MN-FA challenge */
    0x08,                                           /* Length: 8 */
    0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, /* Challenge */
};
static const uint8_t ext_udpt_req[] = {
    0x90,       /* Type: 144, UDP tunnel request (RFC 3519 §3.1) */
    0x06,       /* Length: 6 */
    0x00,       /* Sub-Type: 0 */
    0x00,       /* Reserved 1 */
    0x80,       /* F (force) set, R clear, Reserved 2 */
    0x04,       /* Encapsulation: 4, IP in IP */
    0x00, 0x00, /* Reserved 3 */
};
static const uint8_t ext_udpt_rep[] = {
    0x2c,       /* Type: 44, UDP tunnel reply (RFC 3519 §3.2) */
    0x06,       /* Length: 6 */
    0x00,       /* Sub-Type: 0 */
    0x40,       /* Reply Code: 64, declined */
    0x80, 0x00, /* F set, Reserved */
    0x00, 0x1e, /* Keepalive Interval: 30 s */
};
static const uint8_t ext_revocation[] = {
    0x89,                   /* Type: 137, revocation support (RFC 3543 §3.1) */
    0x06,                   /* Length: 6 */
    0x80, 0x00,             /* I set, Reserved */
    0x00, 0x12, 0xd6, 0x87, /* Timestamp: 1234567 */
};
static const uint8_t ext_skippable[] = {0xc8, 0x02, 0xaa, 0xbb}; /* 200: unknown, skippable */
static const uint8_t ext_mh[] = {
    0x20,                   /* Type: 32, mobile-home authentication */
    0x14,                   /* Length: 4 + 16 */
    0x00, 0x00, 0x01, 0x00, /* SPI: 256 */
    1,    2,    3,    4,    5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, /* Authenticator */
};
static const uint8_t ext_mn_aaa[] = {
    0x24,                   /* Type: 36, generalized authentication (RFC 3012 §5) */
    0x01,                   /* Subtype: 1, MN-AAA */
    0x00, 0x08,             /* Length (16 bits): 4 + 4 */
    0x00, 0x00, 0x01, 0x01, /* SPI: 257 */
    0xa1, 0xa2, 0xa3, 0xa4, /* Authenticator (4 octets: the walker takes any size) */
};
