/* Encodes every message kind client/proto produces, writes them to a pcap and
 * writes alongside, per frame, the field values tshark must show (TSV:
 * frame, field, value). check-wire.py compares the two. Expected values come
 * from what we asked the encoder for, never from reading its output back. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advert.h"
#include "auth.h"
#include "extensions.h"
#include "registration.h"
#include "tunnel_data.h"
#include "writer.h"

#include "frame.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const uint32_t HOME_ADDR = IP4(198, 18, 0, 50);
static const uint32_t HOME_AGENT = IP4(198, 18, 0, 1);
static const uint32_t FA_ADDR = IP4(203, 0, 113, 5);
static const uint32_t CCOA = IP4(192, 0, 2, 77);
static const uint32_t CORRESPONDENT = IP4(198, 51, 100, 7);
static const char NAI[] = "mn1@example.org";

static const uint8_t MH_KEY[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
static const uint8_t MF_KEY[] = "mobile-foreign";
static const uint8_t FH_KEY[] = "foreign-home-secret!";
static const uint8_t AAA_KEY[] = "aaa-shared";
static const uint8_t CHALLENGE[16] = {0xc0, 0xff, 0xee, 0x01, 0x02, 0x03, 0x04, 0x05,
                                      0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d};
/* Longer than 237 octets: RFC 3012 §8 then hashes its first octet and only
 * the last 237, a path a short challenge never takes. */
static uint8_t LONG_CHALLENGE[250];
enum { MH_SPI = 0x100, MF_SPI = 0x1001, FH_SPI = 0x2002, AAA_SPI = 0x3003 };

static WirePcap g_pcap;
static FILE *g_tsv;
static unsigned g_frame;   /* the frame the expectations being written belong to */
static int g_failed;

__attribute__((format(printf, 2, 3)))
static void expect(const char *field, const char *fmt, ...)
{
    va_list ap;

    fprintf(g_tsv, "%u\t%s\t", g_frame, field);
    va_start(ap, fmt);
    vfprintf(g_tsv, fmt, ap);
    va_end(ap);
    fputc('\n', g_tsv);
}

static const char *ip_str(uint32_t a)
{
    static char bufs[4][16];
    static unsigned i;
    char *s = bufs[i++ % 4];

    snprintf(s, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
    return s;
}

/* Rotating buffers: two results may appear in one printf. */
static const char *hex(const uint8_t *p, size_t n)
{
    static char bufs[2][2 * 256 + 1];
    static unsigned k;
    char *s = bufs[k++ % 2];

    for (size_t i = 0; i < n && i < 256; i++)
        snprintf(s + 2 * i, 3, "%02x", p[i]);
    s[2 * (n < 256 ? n : 256)] = 0;
    return s;
}

/* Comma-separated lists: tshark prints repeated fields that way. */
typedef struct List {
    char s[512];
} List;

__attribute__((format(printf, 2, 3)))
static void list_add(List *l, const char *fmt, ...)
{
    size_t n = strlen(l->s);
    va_list ap;

    if (n)
        l->s[n++] = ',';
    va_start(ap, fmt);
    vsnprintf(l->s + n, sizeof l->s - n, fmt, ap);
    va_end(ap);
}

static void check(MipProtoError err, const char *what)
{
    if (err != MIP_OK) {
        fprintf(stderr, "wire-gen: frame %u: %s: %s\n", g_frame, what, mip_proto_strerror(err));
        g_failed = 1;
    }
}

static void begin(const char *name)
{
    g_frame = g_pcap.frames + 1;
    expect("@name", "%s", name);
}

static void udp_out(uint32_t src, uint32_t dst, const MipWriter *w)
{
    if (wire_pcap_udp(&g_pcap, src, dst, MIP_REG_PORT, MIP_REG_PORT, w->buf, w->len) != g_frame) {
        fprintf(stderr, "wire-gen: frame %u: cannot write pcap\n", g_frame);
        g_failed = 1;
    }
    expect("ip.checksum.status", "1");
    expect("udp.checksum.status", "1");
    expect("udp.srcport", "%d", MIP_REG_PORT);
    expect("udp.dstport", "%d", MIP_REG_PORT);
}

/* One authentication extension: expected type, length, SPI, and what the
 * checker needs to recompute the authenticator on its own. */
typedef struct AuthOut {
    List *types, *lens, *spis;
} AuthOut;

static void write_auth(MipWriter *w, AuthOut *o, uint8_t type, MipAuthAlgorithm alg,
                       uint32_t spi, const uint8_t *key, size_t key_len)
{
    MipAuthKey k = {.spi = spi, .algorithm = alg, .key = key, .key_len = key_len};

    check(mip_auth_write(w, type, &k), "mip_auth_write");
    list_add(o->types, "%u", type);
    list_add(o->lens, "%u", 4 + MIP_AUTH_MD5_LEN);
    list_add(o->spis, "0x%08" PRIx32, spi);
    expect("@auth", "%u:%s:%s", type, alg == MIP_AUTH_HMAC_MD5 ? "hmac-md5" : "keyed-md5",
           hex(key, key_len));
}

static void write_mn_aaa(MipWriter *w, AuthOut *o, uint32_t spi, const uint8_t *chal,
                         size_t chal_len)
{
    MipAuthKey k = {.spi = spi, .algorithm = MIP_AUTH_HMAC_MD5, .key = AAA_KEY,
                    .key_len = sizeof AAA_KEY - 1};

    check(mip_auth_write_mn_aaa(w, &k, chal, chal_len), "mip_auth_write_mn_aaa");
    list_add(o->types, "%u", MIP_EXT_GEN_AUTH);
    list_add(o->lens, "%u", 4 + MIP_AUTH_MD5_LEN);
    list_add(o->spis, "0x%08" PRIx32, spi);
    expect("mip.ext.auth.subtype", "%u", MIP_GEN_AUTH_SUBTYPE_MN_AAA);
    expect("@auth", "%u:mn-aaa:%s:%s", MIP_EXT_GEN_AUTH, hex(AAA_KEY, sizeof AAA_KEY - 1),
           hex(chal, chal_len));
}

static void expect_ident(uint64_t ident)
{
    expect("@ident", "%016" PRIx64, ident);
}

typedef struct ReqCase {
    const char *name;
    uint8_t flags;
    uint16_t lifetime;
    uint32_t coa;
    uint64_t ident;
    bool nai;
    bool udp_tunnel;        /* RFC 3519 request, F set, IPIP inside */
    bool revocation;        /* RFC 3543 support extension */
    int mh;                 /* MipAuthAlgorithm of the MHAE, or -1 for none */
    uint32_t mn_aaa_spi;    /* non-zero: MN-FA challenge, then MN-AAA with this SPI (RFC 3012) */
    bool mf;                /* MFAE */
    bool long_challenge;    /* LONG_CHALLENGE instead of CHALLENGE */
    bool fh;                /* FHAE, as a foreign agent relays the request */
} ReqCase;

static void emit_request(const ReqCase *c)
{
    uint8_t buf[1024];
    MipWriter w;
    MipRegRequest req = {.flags = c->flags, .lifetime = c->lifetime,
                         .home_address = HOME_ADDR, .home_agent = HOME_AGENT,
                         .care_of_address = c->coa, .identification = c->ident};
    List types = {{0}}, lens = {{0}}, spis = {{0}};
    AuthOut ao = {&types, &lens, &spis};
    static const char *bits[] = {"mip.s", "mip.b", "mip.d", "mip.m", "mip.g", "mip.v", "mip.t", "mip.x"};

    begin(c->name);
    mip_writer_init(&w, buf, sizeof buf);
    check(mip_reg_request_write(&w, &req), "mip_reg_request_write");
    expect("mip.type", "1");
    expect("mip.flags", "0x%02x", c->flags);
    for (int i = 0; i < 8; i++)
        expect(bits[i], "%d", (c->flags >> (7 - i)) & 1);
    expect("mip.life", "%u", c->lifetime);
    expect("mip.homeaddr", "%s", ip_str(HOME_ADDR));
    expect("mip.haaddr", "%s", ip_str(HOME_AGENT));
    expect("mip.coa", "%s", ip_str(c->coa));
    expect_ident(c->ident);

    if (c->nai) {
        check(mip_ext_write_nai(&w, (const uint8_t *)NAI, strlen(NAI)), "mip_ext_write_nai");
        list_add(&types, "%u", MIP_EXT_NAI);
        list_add(&lens, "%zu", strlen(NAI));
        expect("mip.nai", "%s", NAI);
    }
    if (c->udp_tunnel) {
        MipUdpTunnelRequest r = {.subtype = 0, .flags = MIP_UDPT_F,
                                 .encapsulation = MIP_UDPT_ENCAP_IPIP};
        check(mip_ext_write_udp_tunnel_request(&w, &r), "mip_ext_write_udp_tunnel_request");
        list_add(&types, "%u", MIP_EXT_UDP_TUNNEL_REQUEST);
        list_add(&lens, "6");
        expect("mip.ext.utrq.subtype", "0");
        expect("mip.ext.utrq.flags", "0x%02x", MIP_UDPT_F);
        expect("mip.ext.utrq.f", "1");
        expect("mip.ext.utrq.r", "0");
        expect("mip.ext.utrq.encaptype", "%u", MIP_UDPT_ENCAP_IPIP);
    }
    if (c->revocation) {
        MipRevocationSupport r = {.flags = MIP_REV_I, .timestamp = 1234567};
        check(mip_ext_write_revocation(&w, &r), "mip_ext_write_revocation");
        list_add(&types, "%u", MIP_EXT_REVOCATION);
        list_add(&lens, "6");
        expect("mip.ext.rev.flags", "0x8000");
        expect("mip.ext.rev.i", "1");   /* RFC 3543 §3.1: I is the top bit */
        expect("mip.ext.rev.tstamp", "1234567");
    }
    if (c->mh >= 0)
        write_auth(&w, &ao, MIP_EXT_MH_AUTH, (MipAuthAlgorithm)c->mh, MH_SPI, MH_KEY, sizeof MH_KEY);
    if (c->mn_aaa_spi) {
        const uint8_t *chal = c->long_challenge ? LONG_CHALLENGE : CHALLENGE;
        size_t chal_len = c->long_challenge ? sizeof LONG_CHALLENGE : sizeof CHALLENGE;
        check(mip_ext_write_challenge(&w, chal, chal_len), "mip_ext_write_challenge");
        list_add(&types, "%u", MIP_EXT_MN_FA_CHALLENGE);
        list_add(&lens, "%zu", chal_len);
        expect("mip.extension", "%s", hex(chal, chal_len));
        write_mn_aaa(&w, &ao, c->mn_aaa_spi, chal, chal_len);
    }
    if (c->mf)
        write_auth(&w, &ao, MIP_EXT_MF_AUTH, MIP_AUTH_HMAC_MD5, MF_SPI, MF_KEY, sizeof MF_KEY - 1);
    if (c->fh)
        write_auth(&w, &ao, MIP_EXT_FH_AUTH, MIP_AUTH_KEYED_MD5, FH_SPI, FH_KEY, sizeof FH_KEY - 1);

    expect("mip.ext.type", "%s", types.s);
    expect("mip.ext.len", "%s", lens.s);
    expect("mip.auth.spi", "%s", spis.s);
    /* A request travels from the care-of address (FA or co-located) to the HA. */
    udp_out(c->flags & MIP_REQ_D ? c->coa : HOME_ADDR, c->flags & MIP_REQ_D ? HOME_AGENT : FA_ADDR, &w);
}

typedef struct ReplyCase {
    const char *name;
    uint8_t code;
    uint16_t lifetime;
    uint64_t ident;
    bool udp_tunnel;
    int mh;                 /* MipAuthAlgorithm, or -1 */
    bool challenge;         /* a new MN-FA challenge the FA adds after the MHAE */
    bool mf;
} ReplyCase;

static void emit_reply(const ReplyCase *c)
{
    uint8_t buf[1024];
    MipWriter w;
    MipRegReply rep = {.code = c->code, .lifetime = c->lifetime, .home_address = HOME_ADDR,
                       .home_agent = HOME_AGENT, .identification = c->ident};
    List types = {{0}}, lens = {{0}}, spis = {{0}};
    AuthOut ao = {&types, &lens, &spis};

    begin(c->name);
    mip_writer_init(&w, buf, sizeof buf);
    check(mip_reg_reply_write(&w, &rep), "mip_reg_reply_write");
    expect("mip.type", "3");
    expect("mip.code", "%u", c->code);
    expect("mip.life", "%u", c->lifetime);
    expect("mip.homeaddr", "%s", ip_str(HOME_ADDR));
    expect("mip.haaddr", "%s", ip_str(HOME_AGENT));
    expect_ident(c->ident);
    if (c->udp_tunnel) {
        MipUdpTunnelReply r = {.subtype = 0, .reply_code = MIP_UDPT_REPLY_ACCEPTED,
                               .flags = MIP_UDPT_REPLY_F, .keepalive = 110};
        check(mip_ext_write_udp_tunnel_reply(&w, &r), "mip_ext_write_udp_tunnel_reply");
        list_add(&types, "%u", MIP_EXT_UDP_TUNNEL_REPLY);
        list_add(&lens, "6");
        expect("mip.ext.utrp.subtype", "0");
        expect("mip.ext.utrp.code", "0");
        expect("mip.ext.utrp.flags", "0x8000");
        expect("mip.ext.utrp.f", "1");
        expect("mip.ext.utrp.keepalive", "110");
    }
    if (c->mh >= 0)
        write_auth(&w, &ao, MIP_EXT_MH_AUTH, (MipAuthAlgorithm)c->mh, MH_SPI, MH_KEY, sizeof MH_KEY);
    if (c->challenge) {
        check(mip_ext_write_challenge(&w, CHALLENGE, sizeof CHALLENGE), "mip_ext_write_challenge");
        list_add(&types, "%u", MIP_EXT_MN_FA_CHALLENGE);
        list_add(&lens, "%zu", sizeof CHALLENGE);
        expect("mip.extension", "%s", hex(CHALLENGE, sizeof CHALLENGE));
    }
    if (c->mf)
        write_auth(&w, &ao, MIP_EXT_MF_AUTH, MIP_AUTH_HMAC_MD5, MF_SPI, MF_KEY, sizeof MF_KEY - 1);
    expect("mip.ext.type", "%s", types.s);
    expect("mip.ext.len", "%s", lens.s);
    expect("mip.auth.spi", "%s", spis.s);
    /* With an MFAE the foreign agent relays it to the mobile node. */
    udp_out(c->mf ? FA_ADDR : HOME_AGENT, c->mf ? HOME_ADDR : CCOA, &w);
}

/* RFC 3519 tunnel data: the header from the library, then an inner IPv4 ICMP
 * echo (our own bytes) that tshark must find behind it. */
static void emit_tunnel_data(void)
{
    uint8_t buf[256], inner[20 + 16];
    uint8_t *echo = inner + 20;
    MipWriter w;

    begin("tunnel data, IPIP, inner ICMP echo");
    mip_writer_init(&w, buf, sizeof buf);
    check(mip_tunnel_data_write(&w, 4), "mip_tunnel_data_write");
    memset(echo, 0, 16);
    echo[0] = 8;
    echo[5] = 1;   /* identifier 1 */
    echo[7] = 9;   /* sequence 9 */
    memcpy(echo + 8, "mipd-wire", 8);
    {
        uint16_t ck = wire_checksum(echo, 16);
        echo[2] = (uint8_t)(ck >> 8);
        echo[3] = (uint8_t)ck;
    }
    wire_ipv4_header(inner, 1, 63, 0x4242, HOME_ADDR, CORRESPONDENT, 16);
    check(mip_writer_put(&w, inner, sizeof inner), "mip_writer_put");
    expect("mip.type", "4");
    expect("mip.nattt.nexthdr", "4");
    expect("mip.nattt.reserved", "0x0000");
    expect("ip.src", "%s,%s", ip_str(CCOA), ip_str(HOME_ADDR));
    expect("ip.dst", "%s,%s", ip_str(HOME_AGENT), ip_str(CORRESPONDENT));
    expect("icmp.type", "8");
    expect("icmp.seq", "9");
    if (wire_pcap_udp(&g_pcap, CCOA, HOME_AGENT, MIP_REG_PORT, MIP_REG_PORT, w.buf, w.len) != g_frame)
        g_failed = 1;
    expect("ip.checksum.status", "1,1");
    expect("udp.checksum.status", "1");
}

typedef struct AdvCase {
    const char *name;
    MipAgentAdvertSpec spec;
    uint32_t src;
} AdvCase;

static void emit_advert(const AdvCase *c)
{
    uint8_t buf[1024];
    MipWriter w;
    const MipAgentAdvertSpec *s = &c->spec;
    List routers = {{0}}, prefs = {{0}}, types = {{0}}, lens = {{0}}, coas = {{0}}, plens = {{0}};
    static const char *bits[] = {"icmp.mip.r", "icmp.mip.b", "icmp.mip.h", "icmp.mip.f",
                                 "icmp.mip.m", "icmp.mip.g", "icmp.mip.v", "icmp.mip.rt",
                                 "icmp.mip.u", "icmp.mip.x"};

    begin(c->name);
    mip_writer_init(&w, buf, sizeof buf);
    check(mip_advert_encode(&w, s), "mip_advert_encode");
    expect("ip.ttl", "1");
    expect("icmp.type", "9");
    expect("icmp.code", "%u", s->code);
    expect("icmp.checksum.status", "1");
    expect("icmp.num_addrs", "%zu", s->n_routers);
    expect("icmp.addr_entry_size", "2");
    expect("icmp.lifetime", "%u", s->lifetime);
    for (size_t i = 0; i < s->n_routers; i++) {
        list_add(&routers, "%s", ip_str(s->routers[i].address));
        list_add(&prefs, "%" PRId32, s->routers[i].preference);
    }
    if (s->n_routers) {
        expect("icmp.router_address", "%s", routers.s);
        expect("icmp.pref_level", "%s", prefs.s);
    }
    if (s->mobility) {
        list_add(&types, "16");
        list_add(&lens, "%zu", 6 + 4 * s->n_coa);
        expect("icmp.mip.seq", "%u", s->sequence);
        expect("icmp.mip.life", "%u", s->reg_lifetime);
        expect("icmp.mip.flags", "0x%04x", s->flags);
        for (int i = 0; i < 10; i++)
            expect(bits[i], "%d", (s->flags >> (15 - i)) & 1);
        /* tshark 4.0 predates the I bit (RFC 4857) and shows it as reserved. */
        expect("icmp.mip.reserved", "0x%04x", s->flags & 0x3f);
        for (size_t i = 0; i < s->n_coa; i++)
            list_add(&coas, "%s", ip_str(s->coas[i]));
        if (s->n_coa)
            expect("icmp.mip.coa", "%s", coas.s);
    }
    if (s->prefix_lengths) {
        list_add(&types, "19");
        list_add(&lens, "%zu", s->n_prefix_lengths);
        for (size_t i = 0; i < s->n_prefix_lengths; i++)
            list_add(&plens, "%u", s->prefix_lengths[i]);
        expect("icmp.mip.prefixlength", "%s", plens.s);
    }
    if (s->challenge) {
        list_add(&types, "24");
        list_add(&lens, "%zu", s->challenge_len);
        expect("icmp.mip.challenge", "%s", hex(s->challenge, s->challenge_len));
    }
    /* Each pad is a lone type-0 octet with no length (RFC 5944 §2.1.3). */
    for (size_t i = 0; i < s->pad; i++)
        list_add(&types, "0");
    expect("icmp.mip.type", "%s", types.s);
    expect("icmp.mip.length", "%s", lens.s);
    if (wire_pcap_icmp(&g_pcap, c->src, IP4(224, 0, 0, 1), w.buf, w.len) != g_frame)
        g_failed = 1;
}

static void emit_solicit(void)
{
    uint8_t buf[64];
    MipWriter w;

    begin("agent solicitation");
    mip_writer_init(&w, buf, sizeof buf);
    check(mip_solicit_encode(&w), "mip_solicit_encode");
    expect("ip.ttl", "1");
    expect("icmp.type", "10");
    expect("icmp.code", "0");
    expect("icmp.checksum.status", "1");
    if (wire_pcap_icmp(&g_pcap, HOME_ADDR, IP4(224, 0, 0, 11), w.buf, w.len) != g_frame)
        g_failed = 1;
}

int main(int argc, char **argv)
{
    static const MipRouterEntry routers[] = {{IP4(203, 0, 113, 1), 0}, {IP4(203, 0, 113, 2), -1}};
    static const uint32_t coas3[] = {FA_ADDR, IP4(203, 0, 113, 6), IP4(203, 0, 113, 7)};
    static const uint8_t plen2[] = {24, 25}, plen1[] = {24};
    const uint16_t all_adv = MIP_ADV_R | MIP_ADV_B | MIP_ADV_H | MIP_ADV_F | MIP_ADV_M
                             | MIP_ADV_G | MIP_ADV_T | MIP_ADV_U | MIP_ADV_X | MIP_ADV_I;
    const AdvCase adverts[] = {
        {"advert: all flags, 3 CoAs, ext 19, 24, two pads",
         {.code = 0, .lifetime = 1800, .routers = routers, .n_routers = 2, .mobility = true,
          .sequence = 7, .reg_lifetime = 600, .flags = all_adv, .coas = coas3, .n_coa = 3,
          .prefix_lengths = plen2, .n_prefix_lengths = 2, .challenge = CHALLENGE,
          .challenge_len = sizeof CHALLENGE, .pad = 2},
         IP4(203, 0, 113, 1)},
        {"advert: code 16 FA, one CoA, infinite lifetime",
         {.code = MIP_ICMP_ADVERT_CODE_MOBILITY_ONLY, .lifetime = 900, .routers = routers,
          .n_routers = 1, .mobility = true, .sequence = 65535, .reg_lifetime = 0xffff,
          .flags = MIP_ADV_R | MIP_ADV_F | MIP_ADV_T | MIP_ADV_U, .coas = coas3, .n_coa = 1,
          .prefix_lengths = plen1, .n_prefix_lengths = 1},
         IP4(203, 0, 113, 1)},
        {"advert: home agent only, no CoA",
         {.code = 0, .lifetime = 300, .routers = routers, .n_routers = 1, .mobility = true,
          .sequence = 256, .reg_lifetime = 1200, .flags = MIP_ADV_H, .n_coa = 0},
         IP4(203, 0, 113, 1)},
    };
    /* S B D M G T: each alone, the usual co-located and FA combinations, all together. */
    const uint8_t sbdmgt = MIP_REQ_S | MIP_REQ_B | MIP_REQ_D | MIP_REQ_M | MIP_REQ_G | MIP_REQ_T;
    const int hmac = MIP_AUTH_HMAC_MD5, keyed = MIP_AUTH_KEYED_MD5;
    const ReqCase requests[] = {
        {"request: no flags, NAI, MHAE hmac-md5", .flags = 0, .lifetime = 600, .coa = FA_ADDR,
         .ident = 0xe8f3a1b2c3d4e5f6ull, .nai = true, .mh = hmac},
        {"request: S", .flags = MIP_REQ_S, .lifetime = 600, .coa = FA_ADDR,
         .ident = 0xe8f3a1b200000001ull, .nai = true, .mh = hmac},
        {"request: B", .flags = MIP_REQ_B, .lifetime = 600, .coa = FA_ADDR,
         .ident = 0xe8f3a1b200000002ull, .nai = true, .mh = hmac},
        {"request: D (co-located)", .flags = MIP_REQ_D, .lifetime = 600, .coa = CCOA,
         .ident = 0xe8f3a1b200000003ull, .nai = true, .mh = hmac},
        {"request: M", .flags = MIP_REQ_M, .lifetime = 600, .coa = FA_ADDR,
         .ident = 0xe8f3a1b200000004ull, .nai = true, .mh = hmac},
        {"request: G", .flags = MIP_REQ_G, .lifetime = 600, .coa = FA_ADDR,
         .ident = 0xe8f3a1b200000005ull, .nai = true, .mh = hmac},
        {"request: T", .flags = MIP_REQ_T, .lifetime = 600, .coa = FA_ADDR,
         .ident = 0xe8f3a1b200000006ull, .nai = true, .mh = hmac},
        {"request: D G T, co-located GRE with reverse tunnel",
         .flags = MIP_REQ_D | MIP_REQ_G | MIP_REQ_T, .lifetime = 1800, .coa = CCOA,
         .ident = 0xe8f3a1b200000007ull, .nai = true, .mh = hmac},
        {"request: S B D M G T, infinite lifetime", .flags = sbdmgt, .lifetime = 0xffff,
         .coa = CCOA, .ident = 0xffffffffffffffffull, .nai = true, .mh = hmac},
        {"request: deregistration, keyed-MD5 MHAE, no NAI", .flags = 0, .lifetime = 0,
         .coa = HOME_ADDR, .ident = 0x0000000100000002ull, .mh = keyed},
        {"request: D T, UDP Tunnel Request, revocation support",
         .flags = MIP_REQ_D | MIP_REQ_T, .lifetime = 600, .coa = CCOA,
         .ident = 0xe8f3a1b200000008ull, .nai = true, .udp_tunnel = true, .revocation = true,
         .mh = hmac},
        {"request: NAI, MHAE, challenge, MN-AAA, FHAE", .flags = MIP_REQ_T, .lifetime = 600,
         .coa = FA_ADDR, .ident = 0xe8f3a1b200000009ull, .nai = true, .mh = hmac,
         .mn_aaa_spi = AAA_SPI, .fh = true},
        {"request: NAI, MHAE, challenge, MN-AAA with CHAP_SPI", .flags = 0, .lifetime = 600,
         .coa = FA_ADDR, .ident = 0xe8f3a1b20000000bull, .nai = true, .mh = hmac,
         .mn_aaa_spi = MIP_SPI_CHAP},
        {"request: MN-AAA over a 250-octet challenge", .flags = 0, .lifetime = 600,
         .coa = FA_ADDR, .ident = 0xe8f3a1b20000000cull, .nai = true, .mh = hmac,
         .mn_aaa_spi = AAA_SPI, .long_challenge = true},
        {"request: keyed-MD5 MHAE, MFAE, FHAE", .flags = MIP_REQ_B, .lifetime = 600,
         .coa = FA_ADDR, .ident = 0xe8f3a1b20000000aull, .nai = true, .mh = keyed, .mf = true,
         .fh = true},
    };
    const ReplyCase replies[] = {
        {"reply: 0 accepted, MHAE hmac-md5", .code = MIP_CODE_ACCEPTED, .lifetime = 600,
         .ident = 0xe8f3a1b2c3d4e5f6ull, .mh = hmac},
        {"reply: 1 no simultaneous bindings, relayed with MFAE",
         .code = MIP_CODE_ACCEPTED_NO_SIMULTANEOUS, .lifetime = 300,
         .ident = 0xe8f3a1b200000001ull, .mh = hmac, .mf = true},
        {"reply: 0, UDP Tunnel Reply", .code = MIP_CODE_ACCEPTED, .lifetime = 600,
         .ident = 0xe8f3a1b200000008ull, .udp_tunnel = true, .mh = hmac},
        {"reply: 0, MHAE, fresh MN-FA challenge, MFAE (RFC 3012 §3.2)",
         .code = MIP_CODE_ACCEPTED, .lifetime = 600, .ident = 0xe8f3a1b200000009ull, .mh = hmac,
         .challenge = true, .mf = true},
        {"reply: 69 lifetime too long, from the FA with MFAE only",
         .code = MIP_CODE_FA_LIFETIME_TOO_LONG, .lifetime = 300, .ident = 0xe8f3a1b200000002ull,
         .mh = -1, .mf = true},
        {"reply: 133 identification mismatch, keyed-MD5", .code = MIP_CODE_HA_ID_MISMATCH,
         .lifetime = 0, .ident = 0xe9000000c3d4e5f6ull, .mh = keyed},
        {"reply: 131 MN failed authentication", .code = MIP_CODE_HA_MN_AUTH_FAILED,
         .lifetime = 0, .ident = 0xe8f3a1b200000003ull, .mh = hmac},
        {"reply: 136 unknown HA address", .code = MIP_CODE_HA_UNKNOWN_HA_ADDRESS, .lifetime = 0,
         .ident = 0xe8f3a1b200000004ull, .mh = hmac},
    };

    for (size_t i = 0; i < sizeof LONG_CHALLENGE; i++)
        LONG_CHALLENGE[i] = (uint8_t)(i * 7 + 3);
    if (argc != 3) {
        fprintf(stderr, "usage: %s OUT.pcap OUT.tsv\n", argv[0]);
        return 2;
    }
    if (wire_pcap_open(&g_pcap, argv[1]) != 0 || !(g_tsv = fopen(argv[2], "w"))) {
        perror("wire-gen");
        return 2;
    }
    for (size_t i = 0; i < sizeof adverts / sizeof adverts[0]; i++)
        emit_advert(&adverts[i]);
    emit_solicit();
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++)
        emit_request(&requests[i]);
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++)
        emit_reply(&replies[i]);
    emit_tunnel_data();
    fprintf(g_tsv, "0\t@frames\t%u\n", g_pcap.frames);
    if (wire_pcap_close(&g_pcap) != 0 || fclose(g_tsv) != 0) {
        perror("wire-gen");
        return 2;
    }
    return g_failed;
}
