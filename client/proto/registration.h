/* Registration Request (type 1) and Reply (type 3), RFC 5944 §3.3-3.4, with
 * the extensions that follow them (see extensions.h). Buffers hold the UDP
 * payload. Addresses are host byte order. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "extensions.h"
#include "writer.h"

enum {
    MIP_MSG_REG_REQUEST = 1,
    MIP_MSG_REG_REPLY = 3,
    MIP_MSG_TUNNEL_DATA = 4,  /* RFC 3519, see tunnel_data.h */
    MIP_REG_PORT = 434,
    MIP_REG_REQUEST_LEN = 24,
    MIP_REG_REPLY_LEN = 20,
};

/* Request flags, the octet after the type. */
enum {
    MIP_REQ_S = 0x80, /* simultaneous bindings */
    MIP_REQ_B = 0x40, /* broadcast datagrams */
    MIP_REQ_D = 0x20, /* decapsulation by mobile node (co-located care-of) */
    MIP_REQ_M = 0x10, /* minimal encapsulation */
    MIP_REQ_G = 0x08, /* GRE */
    MIP_REQ_r = 0x04, /* reserved: callers send it as zero; the codec keeps what it is given */
    MIP_REQ_T = 0x02, /* reverse tunnelling requested (RFC 3024) */
    MIP_REQ_x = 0x01, /* reserved, sent as zero */
};

/* Reply codes (RFC 5944 §3.4, RFC 3024, RFC 3519, RFC 3012). */
enum {
    MIP_CODE_ACCEPTED = 0,
    MIP_CODE_ACCEPTED_NO_SIMULTANEOUS = 1,
    /* foreign agent denials */
    MIP_CODE_FA_UNSPECIFIED = 64,
    MIP_CODE_FA_PROHIBITED = 65,
    MIP_CODE_FA_NO_RESOURCES = 66,
    MIP_CODE_FA_MN_AUTH_FAILED = 67,
    MIP_CODE_FA_HA_AUTH_FAILED = 68,
    MIP_CODE_FA_LIFETIME_TOO_LONG = 69,
    MIP_CODE_FA_POORLY_FORMED_REQUEST = 70,
    MIP_CODE_FA_POORLY_FORMED_REPLY = 71,
    MIP_CODE_FA_ENCAPSULATION_UNAVAILABLE = 72,
    MIP_CODE_FA_VJ_UNAVAILABLE = 73,
    MIP_CODE_FA_REVERSE_TUNNEL_UNAVAILABLE = 74,
    MIP_CODE_FA_REVERSE_TUNNEL_MANDATORY = 75,
    MIP_CODE_FA_DELIVERY_STYLE_UNSUPPORTED = 79,
    MIP_CODE_FA_HOME_NETWORK_UNREACHABLE = 80,
    MIP_CODE_FA_HA_HOST_UNREACHABLE = 81,
    MIP_CODE_FA_HA_PORT_UNREACHABLE = 82,
    MIP_CODE_FA_HA_UNREACHABLE = 88,
    MIP_CODE_FA_INVALID_COA = 77,
    MIP_CODE_FA_UNKNOWN_CHALLENGE = 104,
    MIP_CODE_FA_MISSING_CHALLENGE = 105,
    MIP_CODE_FA_STALE_CHALLENGE = 106,
    /* home agent denials */
    MIP_CODE_HA_UNSPECIFIED = 128,
    MIP_CODE_HA_PROHIBITED = 129,
    MIP_CODE_HA_NO_RESOURCES = 130,
    MIP_CODE_HA_MN_AUTH_FAILED = 131,
    MIP_CODE_HA_FA_AUTH_FAILED = 132,
    MIP_CODE_HA_ID_MISMATCH = 133,
    MIP_CODE_HA_POORLY_FORMED_REQUEST = 134,
    MIP_CODE_HA_TOO_MANY_BINDINGS = 135,
    MIP_CODE_HA_UNKNOWN_HA_ADDRESS = 136,
    MIP_CODE_HA_REVERSE_TUNNEL_UNAVAILABLE = 137,
    MIP_CODE_HA_REVERSE_TUNNEL_MANDATORY = 138,
    MIP_CODE_HA_ENCAPSULATION_UNAVAILABLE = 139,
};

typedef struct MipRegRequest {
    uint8_t flags;             /* MIP_REQ_* */
    uint16_t lifetime;         /* seconds; 0 = deregister, 0xffff = infinity */
    uint32_t home_address;
    uint32_t home_agent;
    uint32_t care_of_address;
    uint64_t identification;
} MipRegRequest;

typedef struct MipRegReply {
    uint8_t code;              /* MIP_CODE_* */
    uint16_t lifetime;
    uint32_t home_address;
    uint32_t home_agent;
    uint64_t identification;
} MipRegReply;

/* Decoders fill the fixed part and walk every extension into *ext (ext may be
 * NULL only if the caller ignores extensions; they are still validated). */
MipProtoError mip_reg_request_decode(const uint8_t *buf, size_t len,
                                     MipRegRequest *out, MipRegExtensions *ext);
MipProtoError mip_reg_reply_decode(const uint8_t *buf, size_t len,
                                   MipRegReply *out, MipRegExtensions *ext);

/* Encoders write the fixed part at the start of an empty writer; extensions
 * and authenticators are appended after (extensions.h, auth.h). */
MipProtoError mip_reg_request_write(MipWriter *w, const MipRegRequest *req);
MipProtoError mip_reg_reply_write(MipWriter *w, const MipRegReply *rep);

/* "accepted", "identification mismatch", ... never NULL. */
const char *mip_reg_code_name(uint8_t code);
/* True for 0 and 1. */
bool mip_reg_code_accepted(uint8_t code);
