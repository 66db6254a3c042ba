/* Packet transforms of the user-space tunnel: IP in IP (RFC 2003), GRE
 * (RFC 2784) and minimal encapsulation (RFC 2004), and the checks every packet
 * from the home agent must pass before it reaches mip0. Pure functions over
 * byte buffers (no I/O), so unit tests and fuzzers can drive them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/core/plan.h"

enum {
    MIP_IPPROTO_IPIP = 4,
    MIP_IPPROTO_GRE = 47,
    MIP_IPPROTO_MINIMAL = 55,
    MIP_GRE_HDR_LEN = 4,
    MIP_MINIMAL_FWD_LEN = 12, /* forwarding header with the S bit set */
    MIP_IPV4_HDR_MAX = 60,
    /* Room a caller reserves for mip_encap_minimal_header(). */
    MIP_ENCAP_HDR_MAX = MIP_IPV4_HDR_MAX + MIP_MINIMAL_FWD_LEN,
};

/* Bytes the outer headers add, for mip0's MTU. */
unsigned mip_encap_overhead(MipEncapsulation encap);
/* The raw-socket protocol that carries this encapsulation (0: none). */
int mip_encap_ip_protocol(MipEncapsulation encap);

/* The 4-byte GRE header for an IPv4 payload: no checksum, key or sequence. */
extern const uint8_t mip_gre_header[MIP_GRE_HDR_LEN];

typedef enum MipEncapVerdict {
    MIP_ENCAP_SEND,      /* send as the encapsulation says */
    MIP_ENCAP_SEND_IPIP, /* minimal: a fragment, send IPIP instead (RFC 2004 §3) */
    MIP_ENCAP_DROP,      /* not an IPv4 packet from the home address */
} MipEncapVerdict;

/* Checks a packet read from mip0 before it is tunnelled: well-formed IPv4
 * whose source is the home address (the tunnel carries nothing else). */
MipEncapVerdict mip_encap_check(const uint8_t *pkt, size_t len, uint32_t home_address,
                                MipEncapsulation encap);

/* Minimal encapsulation: writes the modified original header plus the
 * forwarding header (original destination and source) into hdr and returns
 * its length; the payload (pkt + (pkt[0] & 15) * 4) follows it unchanged.
 * 0 when the packet cannot be encapsulated (too long). Addresses host order. */
size_t mip_encap_minimal_header(const uint8_t *pkt, size_t len, uint32_t src, uint32_t dst,
                                uint8_t hdr[MIP_ENCAP_HDR_MAX]);
/* A plain 20-byte outer header carrying IPIP, for the fragments minimal
 * encapsulation cannot carry (the minimal socket writes its own headers). */
void mip_encap_ipip_header(const uint8_t *inner, size_t inner_len, uint32_t src, uint32_t dst,
                           uint8_t hdr[20]);

typedef enum MipDecapVerdict {
    MIP_DECAP_OK,
    MIP_DECAP_NOT_FROM_AGENT, /* outer source is not the home agent */
    MIP_DECAP_MALFORMED,      /* outer, encapsulation or inner header is bad */
    MIP_DECAP_NOT_FOR_HOME,   /* inner destination is not the home address */
} MipDecapVerdict;

/* Checks and strips a packet received on the raw socket of protocol ip_proto
 * (outer IPv4 header included, as raw sockets deliver it). On MIP_DECAP_OK the
 * inner packet is buf[*inner_off .. *inner_off + *inner_len); minimal
 * encapsulation rebuilds the original header in place, and an outer ECN
 * congestion mark is carried to the inner header (RFC 6040), so buf is
 * modified. Addresses host order. */
MipDecapVerdict mip_decap(int ip_proto, uint8_t *buf, size_t len, uint32_t home_agent,
                          uint32_t home_address, size_t *inner_off, size_t *inner_len);

/* RFC 1071 checksum over buf (the plugin's own copy: plugins do not link the
 * wire-format library). */
uint16_t mip_encap_checksum(const uint8_t *buf, size_t len);
