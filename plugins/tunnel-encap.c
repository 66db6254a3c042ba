/* Packet transforms of the user-space tunnel (IPIP, GRE, minimal
 * encapsulation) and the checks on what arrives from the home agent. */
#include "plugins/tunnel-encap.h"

#include <string.h>

#include "client/proto/bytes.h"

enum {
    GRE_F_CSUM = 0x8000,
    GRE_F_ROUTING = 0x4000,
    GRE_F_KEY = 0x2000,
    GRE_F_SEQ = 0x1000,
    GRE_VERSION_MASK = 0x0007,
    ETHERTYPE_IPV4 = 0x0800,
    IP_FLAG_MF = 0x2000,
    IP_FLAG_DF = 0x4000,
    IP_FRAG_OFFSET_MASK = 0x1fff,
    ECN_MASK = 0x03,
    ECN_CE = 0x03,
};

const uint8_t mip_gre_header[MIP_GRE_HDR_LEN] = {0x00, 0x00, 0x08, 0x00};

uint16_t mip_encap_checksum(const uint8_t *buf, size_t len)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += mip_load_be16(buf + i);
    if (len & 1)
        sum += (uint32_t)buf[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

unsigned mip_encap_overhead(MipEncapsulation encap)
{
    switch (encap) {
    case MIP_ENCAP_IPIP:
        return 20;
    case MIP_ENCAP_GRE:
        return 20 + MIP_GRE_HDR_LEN;
    case MIP_ENCAP_MINIMAL:
        /* The worst case is a fragment, which goes out as IPIP (20 bytes);
         * everything else costs the 12-byte forwarding header. */
        return 20;
    case MIP_ENCAP_UDP:
        return 20 + 8 + 4; /* IP + UDP + RFC 3519 tunnel-data header */
    }
    return 20;
}

int mip_encap_ip_protocol(MipEncapsulation encap)
{
    switch (encap) {
    case MIP_ENCAP_IPIP:
        return MIP_IPPROTO_IPIP;
    case MIP_ENCAP_GRE:
        return MIP_IPPROTO_GRE;
    case MIP_ENCAP_MINIMAL:
        return MIP_IPPROTO_MINIMAL;
    case MIP_ENCAP_UDP:
        return 0;
    }
    return 0;
}

static void set_ip_checksum(uint8_t *hdr, size_t ihl)
{
    mip_store_be16(hdr + 10, 0);
    mip_store_be16(hdr + 10, mip_encap_checksum(hdr, ihl));
}

/* Length of a sane IPv4 header at pkt (0 if not): version 4, 20..60 bytes,
 * total length between the header and the buffer. */
static size_t ipv4_header_len(const uint8_t *pkt, size_t len, size_t *tot_len)
{
    size_t ihl;

    if (len < 20 || (pkt[0] >> 4) != 4)
        return 0;
    ihl = (size_t)(pkt[0] & 15) * 4;
    *tot_len = mip_load_be16(pkt + 2);
    if (ihl < 20 || ihl > len || *tot_len < ihl || *tot_len > len)
        return 0;
    return ihl;
}

MipEncapVerdict mip_encap_check(const uint8_t *pkt, size_t len, uint32_t home_address,
                                MipEncapsulation encap)
{
    size_t tot_len;
    uint16_t frag;

    /* TUN hands us exactly one packet: a total length that disagrees means
     * something odd, not padding. */
    if (!ipv4_header_len(pkt, len, &tot_len) || tot_len != len)
        return MIP_ENCAP_DROP;
    if (mip_load_be32(pkt + 12) != home_address)
        return MIP_ENCAP_DROP;
    if (encap == MIP_ENCAP_MINIMAL) {
        /* RFC 2004 §3: no room for fragment fields in the forwarding header. */
        frag = mip_load_be16(pkt + 6);
        if ((frag & (IP_FLAG_MF | IP_FRAG_OFFSET_MASK)) || len + MIP_MINIMAL_FWD_LEN > 0xffff)
            return MIP_ENCAP_SEND_IPIP;
    }
    return MIP_ENCAP_SEND;
}

size_t mip_encap_minimal_header(const uint8_t *pkt, size_t len, uint32_t src, uint32_t dst,
                                uint8_t hdr[MIP_ENCAP_HDR_MAX])
{
    size_t ihl = (size_t)(pkt[0] & 15) * 4;
    uint8_t *fwd = hdr + ihl;

    if (ihl < 20 || ihl > len || len + MIP_MINIMAL_FWD_LEN > 0xffff)
        return 0;
    /* The original header, modified in place (RFC 2004 §3): its TTL, TOS and
     * identification travel on; addresses and protocol move to the
     * forwarding header. */
    memcpy(hdr, pkt, ihl);
    fwd[0] = pkt[9];
    fwd[1] = 0x80; /* S: original source present (it differs from ours) */
    mip_store_be16(fwd + 2, 0);
    memcpy(fwd + 4, pkt + 16, 4);
    memcpy(fwd + 8, pkt + 12, 4);
    mip_store_be16(fwd + 2, mip_encap_checksum(fwd, MIP_MINIMAL_FWD_LEN));

    hdr[9] = MIP_IPPROTO_MINIMAL;
    mip_store_be16(hdr + 2, (uint16_t)(len + MIP_MINIMAL_FWD_LEN));
    mip_store_be32(hdr + 12, src);
    mip_store_be32(hdr + 16, dst);
    set_ip_checksum(hdr, ihl);
    return ihl + MIP_MINIMAL_FWD_LEN;
}

void mip_encap_ipip_header(const uint8_t *inner, size_t inner_len, uint32_t src, uint32_t dst,
                           uint8_t hdr[20])
{
    memset(hdr, 0, 20);
    hdr[0] = 0x45;
    hdr[1] = inner[1]; /* RFC 2003 §3.1: TOS copied */
    mip_store_be16(hdr + 2, (uint16_t)(20 + inner_len));
    /* The kernel fills a zero identification; DF follows the inner DF. */
    mip_store_be16(hdr + 6, mip_load_be16(inner + 6) & IP_FLAG_DF);
    hdr[8] = 64;
    hdr[9] = MIP_IPPROTO_IPIP;
    mip_store_be32(hdr + 12, src);
    mip_store_be32(hdr + 16, dst);
    set_ip_checksum(hdr, 20);
}

/* Sources no home agent forwards to a mobile node: unspecified, loopback,
 * multicast, reserved/broadcast, and the home address itself (a loop). */
static bool bogus_source(uint32_t src, uint32_t home_address)
{
    return src == 0 || (src >> 24) == 127 || (src >> 28) >= 0xe || src == home_address;
}

static MipDecapVerdict check_inner(uint8_t *inner, size_t avail, uint32_t home_address,
                                   size_t *inner_len)
{
    size_t tot_len, ihl = ipv4_header_len(inner, avail, &tot_len);

    if (!ihl || mip_encap_checksum(inner, ihl) != 0)
        return MIP_DECAP_MALFORMED;
    if (bogus_source(mip_load_be32(inner + 12), home_address))
        return MIP_DECAP_MALFORMED;
    if (mip_load_be32(inner + 16) != home_address)
        return MIP_DECAP_NOT_FOR_HOME;
    *inner_len = tot_len;
    return MIP_DECAP_OK;
}

/* Offset of the IPv4 payload behind a GRE header, or 0 if we refuse it. */
static size_t gre_payload_offset(const uint8_t *p, size_t plen)
{
    uint16_t flags;
    size_t off = MIP_GRE_HDR_LEN;

    if (plen < MIP_GRE_HDR_LEN)
        return 0;
    flags = mip_load_be16(p);
    /* RFC 2784: version 0 and reserved bits zero; RFC 2890 adds key and
     * sequence. We hold no key, so a keyed packet is not for us. */
    if ((flags & GRE_VERSION_MASK) || (flags & ~(GRE_F_CSUM | GRE_F_SEQ)))
        return 0;
    if (mip_load_be16(p + 2) != ETHERTYPE_IPV4)
        return 0;
    if (flags & GRE_F_CSUM)
        off += 4;
    if (flags & GRE_F_SEQ)
        off += 4;
    if (off > plen)
        return 0;
    if ((flags & GRE_F_CSUM) && mip_encap_checksum(p, plen) != 0)
        return 0;
    return off;
}

/* Rebuilds the original header in front of the payload (RFC 2004 §3, the
 * decapsulator's side) and returns its offset in buf, or 0. */
static size_t minimal_restore(uint8_t *buf, size_t ihl, size_t tot_len)
{
    uint8_t *fwd = buf + ihl;
    size_t plen = tot_len - ihl, fl;
    uint8_t proto, src[4], dst[4];
    uint8_t *hdr;

    if (plen < 8)
        return 0;
    fl = (fwd[1] & 0x80) ? MIP_MINIMAL_FWD_LEN : 8;
    if (plen < fl || mip_encap_checksum(fwd, fl) != 0)
        return 0;
    proto = fwd[0];
    memcpy(dst, fwd + 4, 4);
    memcpy(src, fl == MIP_MINIMAL_FWD_LEN ? fwd + 8 : buf + 12, 4);
    hdr = buf + fl;
    memmove(hdr, buf, ihl);
    hdr[9] = proto;
    mip_store_be16(hdr + 2, (uint16_t)(tot_len - fl));
    memcpy(hdr + 12, src, 4);
    memcpy(hdr + 16, dst, 4);
    set_ip_checksum(hdr, ihl);
    return fl;
}

MipDecapVerdict mip_decap(int ip_proto, uint8_t *buf, size_t len, uint32_t home_agent,
                          uint32_t home_address, size_t *inner_off, size_t *inner_len)
{
    size_t tot_len, ihl = ipv4_header_len(buf, len, &tot_len), off;
    uint8_t outer_ecn;
    MipDecapVerdict v;

    if (!ihl || buf[9] != ip_proto)
        return MIP_DECAP_MALFORMED;
    /* The only check a stranger cannot pass without spoofing the agent's
     * address: IPIP and GRE carry no authentication of their own. */
    if (mip_load_be32(buf + 12) != home_agent)
        return MIP_DECAP_NOT_FROM_AGENT;
    outer_ecn = buf[1] & ECN_MASK;

    switch (ip_proto) {
    case MIP_IPPROTO_IPIP:
        off = ihl;
        break;
    case MIP_IPPROTO_GRE: {
        size_t g = gre_payload_offset(buf + ihl, tot_len - ihl);
        if (!g)
            return MIP_DECAP_MALFORMED;
        off = ihl + g;
        break;
    }
    case MIP_IPPROTO_MINIMAL:
        off = minimal_restore(buf, ihl, tot_len);
        if (!off)
            return MIP_DECAP_MALFORMED;
        /* One header serves as outer and inner: no ECN to carry over. */
        outer_ecn = 0;
        break;
    default:
        return MIP_DECAP_MALFORMED;
    }

    v = check_inner(buf + off, tot_len - off, home_address, inner_len);
    if (v != MIP_DECAP_OK)
        return v;
    if (outer_ecn == ECN_CE) {
        uint8_t *inner = buf + off;
        /* RFC 6040 §4.2: congestion seen on the way is kept; a Not-ECT inner
         * packet cannot carry the mark and is dropped. */
        if ((inner[1] & ECN_MASK) == 0)
            return MIP_DECAP_MALFORMED;
        inner[1] |= ECN_CE;
        set_ip_checksum(inner, (size_t)(inner[0] & 15) * 4);
    }
    *inner_off = off;
    return MIP_DECAP_OK;
}
