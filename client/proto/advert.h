/* Agent Advertisement (ICMP 9, RFC 1256 + RFC 5944 §2.1) and Agent
 * Solicitation (ICMP 10, RFC 5944 §2.2). Buffers hold the ICMP message only
 * (the caller strips the IP header and checks TTL). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "writer.h"

enum {
    MIP_ICMP_ROUTER_ADVERT = 9,
    MIP_ICMP_ROUTER_SOLICIT = 10,
    /* ICMP code 16: a mobility agent that does not route common traffic. */
    MIP_ICMP_ADVERT_CODE_MOBILITY_ONLY = 16,
};

/* Advertisement extension types (RFC 5944 §2.1, RFC 3012). */
enum {
    MIP_ADV_EXT_PAD = 0,
    MIP_ADV_EXT_MOBILITY = 16,
    MIP_ADV_EXT_PREFIX_LENGTHS = 19,
    MIP_ADV_EXT_CHALLENGE = 24,
};

/* Mobility Agent Advertisement extension flags, as the 16-bit field after the
 * registration lifetime: R B H F M G r T (RFC 5944), U (RFC 3519), X (RFC 3543). */
enum {
    MIP_ADV_R = 0x8000, /* registration required */
    MIP_ADV_B = 0x4000, /* busy */
    MIP_ADV_H = 0x2000, /* home agent */
    MIP_ADV_F = 0x1000, /* foreign agent */
    MIP_ADV_M = 0x0800, /* minimal encapsulation */
    MIP_ADV_G = 0x0400, /* GRE encapsulation */
    MIP_ADV_r = 0x0200, /* reserved, sent as zero */
    MIP_ADV_T = 0x0100, /* reverse tunnelling */
    MIP_ADV_U = 0x0080, /* UDP tunnelling (RFC 3519) */
    MIP_ADV_X = 0x0040, /* registration revocation (RFC 3543) */
    MIP_ADV_I = 0x0020, /* regional registration (RFC 4857), listed in RFC 5944 */
};

typedef struct MipRouterEntry {
    uint32_t address;   /* host byte order */
    int32_t preference;
} MipRouterEntry;

/* A decoded advertisement. The router and care-of address lists point into the
 * decoded buffer (no copy, no allocation): use the accessors below. */
typedef struct MipAgentAdvert {
    uint8_t code;
    uint16_t lifetime;              /* router advertisement lifetime, seconds */
    uint8_t num_addrs;
    uint8_t addr_entry_size;        /* in 32-bit words, >= 2 */
    const uint8_t *router_entries;  /* num_addrs entries of addr_entry_size*4 bytes */

    bool has_mobility;              /* extension 16 present */
    uint16_t sequence;
    uint16_t reg_lifetime;          /* 0xffff = infinity */
    uint16_t flags;                 /* MIP_ADV_* */
    size_t n_coa;
    const uint8_t *coa_list;        /* n_coa big-endian addresses */

    bool has_prefix_lengths;        /* extension 19 present */
    size_t n_prefix_lengths;
    const uint8_t *prefix_lengths;

    const uint8_t *challenge;       /* extension 24, NULL if absent */
    size_t challenge_len;

    unsigned skipped_extensions;    /* unknown types 128-255 that were skipped */
} MipAgentAdvert;

/* Decodes and verifies the ICMP checksum. An advertisement without extension 16
 * decodes (it is a plain router advertisement): check has_mobility. */
MipProtoError mip_advert_decode(const uint8_t *buf, size_t len, MipAgentAdvert *out);

MipRouterEntry mip_advert_router(const MipAgentAdvert *adv, size_t i);
uint32_t mip_advert_coa(const MipAgentAdvert *adv, size_t i);

/* What an encoder needs; arrays are host byte order. Used by tests, fuzzers and
 * benchmarks (the client only solicits). */
typedef struct MipAgentAdvertSpec {
    uint8_t code;
    uint16_t lifetime;
    const MipRouterEntry *routers;
    size_t n_routers;
    bool mobility;
    uint16_t sequence;
    uint16_t reg_lifetime;
    uint16_t flags;
    const uint32_t *coas;
    size_t n_coa;
    const uint8_t *prefix_lengths;  /* NULL: no extension 19 */
    size_t n_prefix_lengths;
    const uint8_t *challenge;       /* NULL: no extension 24 */
    size_t challenge_len;
    size_t pad;                     /* one-byte padding extensions to append */
} MipAgentAdvertSpec;

MipProtoError mip_advert_encode(MipWriter *w, const MipAgentAdvertSpec *spec);

/* Solicitation: type 10, code 0, checksum, 4 reserved bytes. */
MipProtoError mip_solicit_encode(MipWriter *w);
MipProtoError mip_solicit_decode(const uint8_t *buf, size_t len);
