/* Extensions carried after a registration request or reply: walking them
 * (RFC 5944 §1.9: unknown 0-127 make the message undecodable, 128-255 are
 * skipped) and writing the non-authentication ones. Authentication extensions
 * are written and verified by auth.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "writer.h"

enum {
    MIP_EXT_MH_AUTH = 32,          /* Mobile-Home authentication */
    MIP_EXT_MF_AUTH = 33,          /* Mobile-Foreign authentication */
    MIP_EXT_FH_AUTH = 34,          /* Foreign-Home authentication */
    MIP_EXT_GEN_AUTH = 36,         /* generalized authentication (RFC 3012), long format */
    MIP_EXT_UDP_TUNNEL_REPLY = 44, /* RFC 3519 */
    MIP_EXT_NAI = 131,             /* RFC 2794 */
    MIP_EXT_MN_FA_CHALLENGE = 132, /* RFC 3012 */
    MIP_EXT_REVOCATION = 137,      /* revocation support, RFC 3543 */
    MIP_EXT_UDP_TUNNEL_REQUEST = 144, /* RFC 3519 */

    MIP_GEN_AUTH_SUBTYPE_MN_AAA = 1,
};

/* UDP Tunnel Request flags and encapsulation (RFC 3519 §3.1). The request's
 * "F|R|Reserved 2" field is a single octet (the one before Encapsulation), so
 * MipUdpTunnelRequest.flags holds that octet and the flags are 0x80 and 0x40. */
enum {
    MIP_UDPT_F = 0x80,    /* force UDP tunnelling */
    MIP_UDPT_R = 0x40,    /* registration through FA required */
    MIP_UDPT_ENCAP_IPIP = 4,
    MIP_UDPT_ENCAP_GRE = 47,
    MIP_UDPT_ENCAP_MINIMAL = 55,
};

/* UDP Tunnel Reply (RFC 3519 §3.2): its flags field is 16 bits, F the top bit. */
enum {
    MIP_UDPT_REPLY_F = 0x8000,       /* the home agent forces UDP tunnelling */
    MIP_UDPT_REPLY_ACCEPTED = 0,     /* reply code: will do UDP tunnelling */
    MIP_UDPT_REPLY_DECLINED = 64,    /* reply code: declined, reason unspecified */
};

/* Revocation Support extension flag (RFC 3543 §3.1): only I is defined there;
 * A belongs to the Registration Revocation message, not to this extension. */
enum { MIP_REV_I = 0x8000 };

typedef struct MipUdpTunnelRequest {
    uint8_t subtype;
    uint16_t flags;           /* the F|R|Reserved-2 octet: MIP_UDPT_F, MIP_UDPT_R */
    uint8_t encapsulation;    /* next header of tunnelled packets */
} MipUdpTunnelRequest;

typedef struct MipUdpTunnelReply {
    uint8_t subtype;
    uint8_t reply_code;       /* MIP_UDPT_REPLY_ACCEPTED (0) or _DECLINED (64) */
    uint16_t flags;           /* MIP_UDPT_REPLY_F = 0x8000 */
    uint16_t keepalive;       /* seconds */
} MipUdpTunnelReply;

typedef struct MipRevocationSupport {
    uint16_t flags;           /* MIP_REV_I (0x8000); the rest reserved (RFC 3543 §3.1) */
    uint32_t timestamp;
} MipRevocationSupport;

/* Where an authentication extension sits and what it covers. The authenticator
 * points into the decoded buffer. */
typedef struct MipAuthExtView {
    bool present;
    uint8_t type;              /* 32, 33, 34 or 36 */
    uint8_t subtype;           /* 36 only */
    uint32_t spi;
    const uint8_t *authenticator;
    size_t authenticator_len;
    size_t offset;             /* start of the extension in the message */
    size_t covered_len;        /* bytes the authenticator protects: message start through SPI */
    size_t end;                /* offset just past the extension */
} MipAuthExtView;

typedef struct MipRegExtensions {
    MipAuthExtView mh, mf, fh, mn_aaa;
    const uint8_t *nai;        /* 131, NULL if absent; not NUL-terminated */
    size_t nai_len;
    const uint8_t *challenge;  /* 132 */
    size_t challenge_len;
    bool has_udp_tunnel_request;
    MipUdpTunnelRequest udp_tunnel_request;
    bool has_udp_tunnel_reply;
    MipUdpTunnelReply udp_tunnel_reply;
    bool has_revocation;
    MipRevocationSupport revocation;
    unsigned skipped;          /* unknown 128-255 skipped */
    unsigned count;            /* every extension seen, skipped ones included */
    size_t total_len;          /* length of the whole message */
} MipRegExtensions;

/* Walks buf[start..len) as extensions. Used by registration.h's decoders. */
MipProtoError mip_ext_parse(const uint8_t *buf, size_t start, size_t len,
                            MipRegExtensions *out);

MipProtoError mip_ext_write_nai(MipWriter *w, const uint8_t *nai, size_t nai_len);
MipProtoError mip_ext_write_challenge(MipWriter *w, const uint8_t *challenge, size_t len);
MipProtoError mip_ext_write_udp_tunnel_request(MipWriter *w, const MipUdpTunnelRequest *r);
MipProtoError mip_ext_write_udp_tunnel_reply(MipWriter *w, const MipUdpTunnelReply *r);
MipProtoError mip_ext_write_revocation(MipWriter *w, const MipRevocationSupport *r);
/* Any short-format extension (type, 8-bit length, data): tests and fuzz seeds. */
MipProtoError mip_ext_write_raw(MipWriter *w, uint8_t type, const uint8_t *data, size_t len);
