/* Unit tests of the user-space tunnel's packet transforms: what is accepted
 * from the home agent, what is refused and why, and that minimal
 * encapsulation round-trips (RFC 2003, 2004, 2784, 6040). */
#include <string.h>

#include <glib.h>

#include "client/proto/bytes.h"
#include "plugins/tunnel-encap.h"

enum {
    HA = 0xc6336401,   /* 198.51.100.1 */
    COA = 0xc000020a,  /* 192.0.2.10 */
    HOME = 0xc6120032, /* 198.18.0.50 */
    CN = 0xcb00710a,   /* 203.0.113.10 */
};

/* A 20-byte IPv4 header plus payload_len bytes of payload. */
static size_t ip_packet(uint8_t *buf, uint8_t proto, uint32_t src, uint32_t dst,
                        const uint8_t *payload, size_t payload_len, uint8_t tos)
{
    memset(buf, 0, 20);
    buf[0] = 0x45;
    buf[1] = tos;
    mip_store_be16(buf + 2, (uint16_t)(20 + payload_len));
    mip_store_be16(buf + 4, 0x1234);
    mip_store_be16(buf + 6, 0x4000); /* DF */
    buf[8] = 61;
    buf[9] = proto;
    mip_store_be32(buf + 12, src);
    mip_store_be32(buf + 16, dst);
    mip_store_be16(buf + 10, mip_encap_checksum(buf, 20));
    if (payload_len)
        memcpy(buf + 20, payload, payload_len);
    return 20 + payload_len;
}

/* An ICMP echo request from CN to the home address (the inner packet). */
static size_t inner_echo(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t tos)
{
    uint8_t icmp[16] = {8, 0, 0, 0, 0x12, 0x34, 0, 1, 'm', 'i', 'p', 'd', 't', 'e', 's', 't'};

    mip_store_be16(icmp + 2, mip_encap_checksum(icmp, sizeof icmp));
    return ip_packet(buf, 1, src, dst, icmp, sizeof icmp, tos);
}

static size_t outer(uint8_t *buf, uint8_t proto, uint32_t src, const uint8_t *inner,
                    size_t inner_len, uint8_t tos)
{
    return ip_packet(buf, proto, src, COA, inner, inner_len, tos);
}

static void test_ipip_from_agent_is_delivered(void)
{
    uint8_t in[64], pkt[128];
    size_t il = inner_echo(in, CN, HOME, 0), n = outer(pkt, 4, HA, in, il, 0), off, len;

    g_assert_cmpint(mip_decap(4, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_OK);
    g_assert_cmpuint(off, ==, 20);
    g_assert_cmpuint(len, ==, il);
    g_assert_cmpmem(pkt + off, len, in, il);
}

static void test_ipip_from_stranger_is_refused(void)
{
    uint8_t in[64], pkt[128];
    size_t il = inner_echo(in, CN, HOME, 0), n = outer(pkt, 4, 0xc00002fe, in, il, 0), off, len;

    g_assert_cmpint(mip_decap(4, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_NOT_FROM_AGENT);
}

static void test_inner_not_for_home_is_refused(void)
{
    uint8_t in[64], pkt[128];
    size_t il = inner_echo(in, CN, HOME + 1, 0), n = outer(pkt, 4, HA, in, il, 0), off, len;

    g_assert_cmpint(mip_decap(4, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_NOT_FOR_HOME);
}

static void test_bad_inner_headers_are_malformed(void)
{
    static const uint32_t bogus_src[] = {0, 0x7f000001, 0xe0000001, 0xffffffff, HOME};
    uint8_t in[64], pkt[128];
    size_t il, n, off, len;

    for (size_t i = 0; i < G_N_ELEMENTS(bogus_src); i++) {
        il = inner_echo(in, bogus_src[i], HOME, 0);
        n = outer(pkt, 4, HA, in, il, 0);
        g_assert_cmpint(mip_decap(4, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
    }
    /* Bad inner checksum. */
    il = inner_echo(in, CN, HOME, 0);
    in[10] ^= 1;
    n = outer(pkt, 4, HA, in, il, 0);
    g_assert_cmpint(mip_decap(4, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
    /* Inner total length beyond the packet. */
    il = inner_echo(in, CN, HOME, 0);
    n = outer(pkt, 4, HA, in, il, 0);
    g_assert_cmpint(mip_decap(4, pkt, n - 1, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
    /* Not IPv4 inside; wrong outer protocol for the socket; truncated. */
    il = inner_echo(in, CN, HOME, 0);
    n = outer(pkt, 4, HA, in, il, 0);
    pkt[20] = 0x65;
    g_assert_cmpint(mip_decap(4, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
    n = outer(pkt, 4, HA, in, il, 0);
    g_assert_cmpint(mip_decap(47, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
    g_assert_cmpint(mip_decap(4, pkt, 19, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
    g_assert_cmpint(mip_decap(4, pkt, 20, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
}

static size_t gre_packet(uint8_t *pkt, uint16_t flags, const uint8_t *in, size_t il,
                         gboolean good_csum)
{
    uint8_t g[128];
    size_t gl = 4;

    mip_store_be16(g, flags);
    mip_store_be16(g + 2, 0x0800);
    if (flags & 0x8000) {
        memset(g + 4, 0, 4);
        gl += 4;
    }
    if (flags & 0x2000) {
        mip_store_be32(g + gl, 42);
        gl += 4;
    }
    if (flags & 0x1000) {
        mip_store_be32(g + gl, 7);
        gl += 4;
    }
    memcpy(g + gl, in, il);
    if (flags & 0x8000)
        mip_store_be16(g + 4, (uint16_t)(mip_encap_checksum(g, gl + il) ^ (good_csum ? 0 : 1)));
    return outer(pkt, 47, HA, g, gl + il, 0);
}

static void test_gre_variants(void)
{
    uint8_t in[64], pkt[160];
    size_t il = inner_echo(in, CN, HOME, 0), n, off, len;

    n = gre_packet(pkt, 0, in, il, TRUE);
    g_assert_cmpint(mip_decap(47, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_OK);
    g_assert_cmpuint(off, ==, 24);
    g_assert_cmpmem(pkt + off, len, in, il);

    n = gre_packet(pkt, 0x8000 | 0x1000, in, il, TRUE);
    g_assert_cmpint(mip_decap(47, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_OK);
    g_assert_cmpuint(off, ==, 32);

    n = gre_packet(pkt, 0x8000, in, il, FALSE);
    g_assert_cmpint(mip_decap(47, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
    /* Keyed (we hold no key), routing present, version 1. */
    n = gre_packet(pkt, 0x2000, in, il, TRUE);
    g_assert_cmpint(mip_decap(47, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
    n = gre_packet(pkt, 0x4000, in, il, TRUE);
    g_assert_cmpint(mip_decap(47, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
    n = gre_packet(pkt, 0x0001, in, il, TRUE);
    g_assert_cmpint(mip_decap(47, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
    /* Not IPv4 behind GRE. */
    n = gre_packet(pkt, 0, in, il, TRUE);
    mip_store_be16(pkt + 22, 0x86dd);
    g_assert_cmpint(mip_decap(47, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
}

static void test_minimal_round_trip(void)
{
    uint8_t orig[64], hdr[MIP_ENCAP_HDR_MAX], pkt[160];
    size_t ol = inner_echo(orig, HOME, CN, 0x10), hl, n, off, len;

    g_assert_cmpint(mip_encap_check(orig, ol, HOME, MIP_ENCAP_MINIMAL), ==, MIP_ENCAP_SEND);
    hl = mip_encap_minimal_header(orig, ol, COA, HA, hdr);
    g_assert_cmpuint(hl, ==, 32);
    /* Modified header: protocol 55, our addresses, length + 12, TTL/TOS/ID kept. */
    g_assert_cmpuint(hdr[9], ==, 55);
    g_assert_cmpuint(mip_load_be32(hdr + 12), ==, COA);
    g_assert_cmpuint(mip_load_be32(hdr + 16), ==, HA);
    g_assert_cmpuint(mip_load_be16(hdr + 2), ==, ol + 12);
    g_assert_cmpuint(hdr[8], ==, orig[8]);
    g_assert_cmpuint(hdr[1], ==, 0x10);
    g_assert_cmpuint(mip_encap_checksum(hdr, 20), ==, 0);
    /* Forwarding header: protocol 1, S set, checksum over itself only. */
    g_assert_cmpuint(hdr[20], ==, 1);
    g_assert_cmpuint(hdr[21], ==, 0x80);
    g_assert_cmpuint(mip_load_be32(hdr + 24), ==, CN);
    g_assert_cmpuint(mip_load_be32(hdr + 28), ==, HOME);
    g_assert_cmpuint(mip_encap_checksum(hdr + 20, 12), ==, 0);

    /* The agent's direction: swap roles and decapsulate on our side. */
    ol = inner_echo(orig, CN, HOME, 0);
    hl = mip_encap_minimal_header(orig, ol, HA, COA, hdr);
    memcpy(pkt, hdr, hl);
    memcpy(pkt + hl, orig + 20, ol - 20);
    n = hl + ol - 20;
    g_assert_cmpint(mip_decap(55, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_OK);
    g_assert_cmpuint(off, ==, 12);
    g_assert_cmpmem(pkt + off, len, orig, ol);

    /* A broken forwarding-header checksum is refused. */
    memcpy(pkt, hdr, hl);
    memcpy(pkt + hl, orig + 20, ol - 20);
    pkt[22] ^= 0x40;
    g_assert_cmpint(mip_decap(55, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
}

static void test_minimal_without_source_uses_outer_source(void)
{
    uint8_t orig[64], pkt[160], fwd[8];
    size_t ol = inner_echo(orig, HA, HOME, 0), n, off, len;

    /* The agent itself sends (S = 0): the original source is the outer one. */
    fwd[0] = 1;
    fwd[1] = 0;
    mip_store_be16(fwd + 2, 0);
    mip_store_be32(fwd + 4, HOME);
    mip_store_be16(fwd + 2, mip_encap_checksum(fwd, 8));
    memcpy(pkt, orig, 20);
    pkt[9] = 55;
    mip_store_be32(pkt + 16, COA);
    mip_store_be16(pkt + 2, (uint16_t)(ol + 8));
    memcpy(pkt + 20, fwd, 8);
    memcpy(pkt + 28, orig + 20, ol - 20);
    n = ol + 8;
    g_assert_cmpint(mip_decap(55, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_OK);
    g_assert_cmpuint(mip_load_be32(pkt + off + 12), ==, HA);
    g_assert_cmpuint(mip_load_be32(pkt + off + 16), ==, HOME);
    g_assert_cmpuint(mip_encap_checksum(pkt + off, 20), ==, 0);
    g_assert_cmpmem(pkt + off + 20, len - 20, orig + 20, ol - 20);
}

static void test_transmit_checks(void)
{
    uint8_t p[64], hdr[20];
    size_t n = inner_echo(p, HOME, CN, 0x2e);

    g_assert_cmpint(mip_encap_check(p, n, HOME, MIP_ENCAP_IPIP), ==, MIP_ENCAP_SEND);
    g_assert_cmpint(mip_encap_check(p, n, HOME + 1, MIP_ENCAP_IPIP), ==, MIP_ENCAP_DROP);
    g_assert_cmpint(mip_encap_check(p, n - 1, HOME, MIP_ENCAP_IPIP), ==, MIP_ENCAP_DROP);
    g_assert_cmpint(mip_encap_check(p, 10, HOME, MIP_ENCAP_GRE), ==, MIP_ENCAP_DROP);
    /* A fragment cannot travel in minimal encapsulation: IPIP instead. */
    mip_store_be16(p + 6, 0x2000);
    g_assert_cmpint(mip_encap_check(p, n, HOME, MIP_ENCAP_MINIMAL), ==, MIP_ENCAP_SEND_IPIP);
    g_assert_cmpint(mip_encap_check(p, n, HOME, MIP_ENCAP_IPIP), ==, MIP_ENCAP_SEND);

    n = inner_echo(p, HOME, CN, 0x2e);
    mip_encap_ipip_header(p, n, COA, HA, hdr);
    g_assert_cmpuint(hdr[1], ==, 0x2e);
    g_assert_cmpuint(mip_load_be16(hdr + 2), ==, 20 + n);
    g_assert_cmpuint(mip_load_be16(hdr + 6), ==, 0x4000);
    g_assert_cmpuint(hdr[9], ==, 4);
    g_assert_cmpuint(mip_encap_checksum(hdr, 20), ==, 0);
}

static void test_ecn_congestion_mark_is_kept(void)
{
    uint8_t in[64], pkt[128];
    size_t il, n, off, len;

    il = inner_echo(in, CN, HOME, 0x02); /* ECT(0) */
    n = outer(pkt, 4, HA, in, il, 0x03); /* CE on the way */
    g_assert_cmpint(mip_decap(4, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_OK);
    g_assert_cmpuint(pkt[off + 1] & 3, ==, 3);
    g_assert_cmpuint(mip_encap_checksum(pkt + off, 20), ==, 0);

    il = inner_echo(in, CN, HOME, 0x00); /* Not-ECT cannot carry CE: drop */
    n = outer(pkt, 4, HA, in, il, 0x03);
    g_assert_cmpint(mip_decap(4, pkt, n, HA, HOME, &off, &len), ==, MIP_DECAP_MALFORMED);
}

static void test_random_input_never_escapes_the_buffer(void)
{
    GRand *rng = g_rand_new_with_seed(434);
    uint8_t in[64], base[160], pkt[160];
    size_t il = inner_echo(in, CN, HOME, 0), bl, off, len;
    static const int protos[] = {4, 47, 55};

    /* Mutations of valid packets reach deep paths; ASan watches the reads. */
    for (int i = 0; i < 200000; i++) {
        int proto = protos[i % 3];
        size_t n;

        bl = proto == 47 ? gre_packet(base, 0x8000, in, il, TRUE) : outer(base, 4, HA, in, il, 0);
        base[9] = (uint8_t)proto;
        n = (size_t)g_rand_int_range(rng, 0, (gint32)bl + 1);
        memcpy(pkt, base, bl);
        for (int k = g_rand_int_range(rng, 0, 4); k > 0; k--)
            pkt[g_rand_int_range(rng, 0, (gint32)bl)] = (uint8_t)g_rand_int(rng);
        if (mip_decap(proto, pkt, n, HA, HOME, &off, &len) == MIP_DECAP_OK)
            g_assert_cmpuint(off + len, <=, n);
        (void)mip_encap_check(pkt, n, HOME, MIP_ENCAP_MINIMAL);
    }
    g_rand_free(rng);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tunnel-encap/ipip-from-agent-is-delivered",
                    test_ipip_from_agent_is_delivered);
    g_test_add_func("/tunnel-encap/ipip-from-stranger-is-refused",
                    test_ipip_from_stranger_is_refused);
    g_test_add_func("/tunnel-encap/inner-not-for-home-is-refused",
                    test_inner_not_for_home_is_refused);
    g_test_add_func("/tunnel-encap/bad-inner-headers-are-malformed",
                    test_bad_inner_headers_are_malformed);
    g_test_add_func("/tunnel-encap/gre-variants", test_gre_variants);
    g_test_add_func("/tunnel-encap/minimal-round-trip", test_minimal_round_trip);
    g_test_add_func("/tunnel-encap/minimal-without-source-uses-outer-source",
                    test_minimal_without_source_uses_outer_source);
    g_test_add_func("/tunnel-encap/transmit-checks", test_transmit_checks);
    g_test_add_func("/tunnel-encap/ecn-congestion-mark-is-kept", test_ecn_congestion_mark_is_kept);
    g_test_add_func("/tunnel-encap/random-input-never-escapes-the-buffer",
                    test_random_input_never_escapes_the_buffer);
    return g_test_run();
}
