/* Writes the seed corpus of every fuzz target (tests/fuzz/corpus/<target>/)
 * from the library's own encoders, so seeds start the fuzzer on valid,
 * authenticated messages. Run by tests/fuzz/make-corpus. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "advert.h"
#include "auth.h"
#include "checksum.h"
#include "extensions.h"
#include "registration.h"
#include "tunnel_data.h"

#include "fuzz-common.h"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const char *g_root;
static int g_failed;
static const uint8_t CHALLENGE[8] = {0xc0, 0xff, 0xee, 1, 2, 3, 4, 5};
static const char NAI[] = "mn1@example.org";

static void ok(MipProtoError err, const char *what)
{
    if (err != MIP_OK) {
        fprintf(stderr, "gen-corpus: %s: %s\n", what, mip_proto_strerror(err));
        g_failed = 1;
    }
}

/* prefix: an optional leading selector byte some targets read first. */
static void save(const char *target, const char *name, int prefix, const uint8_t *p, size_t n)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", g_root, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        g_failed = 1;
        return;
    }
    snprintf(path, sizeof path, "%s/%s/%s", g_root, target, name);
    f = fopen(path, "wb");
    if (!f || (prefix >= 0 && fputc(prefix, f) == EOF) || (n && fwrite(p, n, 1, f) != 1)
        || fclose(f) != 0) {
        perror(path);
        g_failed = 1;
    }
}

static void adverts(void)
{
    static const MipRouterEntry routers[] = {{IP4(203, 0, 113, 1), 0}, {IP4(203, 0, 113, 2), -1}};
    static const uint32_t coas[] = {IP4(203, 0, 113, 5), IP4(203, 0, 113, 6)};
    static const uint8_t plen[] = {24, 25};
    uint8_t buf[512];
    MipWriter w;
    MipAgentAdvertSpec full = {
        .code = 0, .lifetime = 1800, .routers = routers, .n_routers = 2, .mobility = true,
        .sequence = 7, .reg_lifetime = 600,
        .flags = MIP_ADV_R | MIP_ADV_F | MIP_ADV_G | MIP_ADV_T | MIP_ADV_U | MIP_ADV_X,
        .coas = coas, .n_coa = 2, .prefix_lengths = plen, .n_prefix_lengths = 2,
        .challenge = CHALLENGE, .challenge_len = sizeof CHALLENGE, .pad = 1};
    MipAgentAdvertSpec ha = {.code = MIP_ICMP_ADVERT_CODE_MOBILITY_ONLY, .lifetime = 300,
                             .routers = routers, .n_routers = 1, .mobility = true,
                             .sequence = 256, .reg_lifetime = 0xffff, .flags = MIP_ADV_H};
    MipAgentAdvertSpec plain = {.code = 0, .lifetime = 60, .routers = routers, .n_routers = 2};

    mip_writer_init(&w, buf, sizeof buf);
    ok(mip_advert_encode(&w, &full), "advert full");
    save("advert", "full", -1, buf, w.len);
    /* A skippable unknown extension (type 200) at the end, checksum redone. */
    static const uint8_t unknown[] = {200, 2, 0xab, 0xcd};
    ok(mip_writer_put(&w, unknown, sizeof unknown), "advert unknown");
    buf[2] = buf[3] = 0;
    mip_store_be16(buf + 2, mip_inet_checksum(buf, w.len));
    save("advert", "skippable-extension", -1, buf, w.len);

    mip_writer_init(&w, buf, sizeof buf);
    ok(mip_advert_encode(&w, &ha), "advert ha");
    save("advert", "home-agent-code16", -1, buf, w.len);
    mip_writer_init(&w, buf, sizeof buf);
    ok(mip_advert_encode(&w, &plain), "advert plain");
    save("advert", "router-only", -1, buf, w.len);

    mip_writer_init(&w, buf, sizeof buf);
    ok(mip_solicit_encode(&w), "solicit");
    save("solicit", "plain", -1, buf, w.len);
    /* RFC 1256 allows more than 8 octets; they count in the checksum. */
    static const uint8_t tail[] = {1, 2, 3, 4};
    ok(mip_writer_put(&w, tail, sizeof tail), "solicit long");
    buf[2] = buf[3] = 0;
    mip_store_be16(buf + 2, mip_inet_checksum(buf, w.len));
    save("solicit", "long", -1, buf, w.len);
}

typedef struct Msg {
    uint8_t buf[512];
    MipWriter w;
} Msg;

static void request(Msg *m, uint8_t flags)
{
    MipRegRequest req = {.flags = flags, .lifetime = 600, .home_address = IP4(198, 18, 0, 50),
                         .home_agent = IP4(198, 18, 0, 1), .care_of_address = IP4(203, 0, 113, 5),
                         .identification = 0xe8f3a1b2c3d4e5f6ull};
    mip_writer_init(&m->w, m->buf, sizeof m->buf);
    ok(mip_reg_request_write(&m->w, &req), "request");
}

static void reply(Msg *m, uint8_t code)
{
    MipRegReply rep = {.code = code, .lifetime = 600, .home_address = IP4(198, 18, 0, 50),
                       .home_agent = IP4(198, 18, 0, 1), .identification = 0xe8f3a1b2c3d4e5f6ull};
    mip_writer_init(&m->w, m->buf, sizeof m->buf);
    ok(mip_reg_reply_write(&m->w, &rep), "reply");
}

static void nai(Msg *m)
{
    ok(mip_ext_write_nai(&m->w, (const uint8_t *)NAI, sizeof NAI - 1), "nai");
}

static void auth(Msg *m, uint8_t type, MipAuthAlgorithm alg)
{
    MipAuthKey k = {FUZZ_SPI, alg, FUZZ_KEY, sizeof FUZZ_KEY};
    ok(mip_auth_write(&m->w, type, &k), "auth");
}

static void challenge_mn_aaa(Msg *m, uint32_t spi)
{
    MipAuthKey k = {spi, MIP_AUTH_HMAC_MD5, FUZZ_KEY, sizeof FUZZ_KEY};
    ok(mip_ext_write_challenge(&m->w, CHALLENGE, sizeof CHALLENGE), "challenge");
    ok(mip_auth_write_mn_aaa(&m->w, &k, CHALLENGE, sizeof CHALLENGE), "mn-aaa");
}

/* Each registration seed goes to its decoder's corpus, to the verify target
 * (with the selector byte: bit 0 reply, bit 1 keyed-MD5) and, without the
 * fixed part, to the extension walker (selector 0: start at offset 0). */
static void save_reg(bool is_reply, const char *name, MipAuthAlgorithm alg, const Msg *m)
{
    size_t fixed = is_reply ? MIP_REG_REPLY_LEN : MIP_REG_REQUEST_LEN;
    save(is_reply ? "reg_reply" : "reg_request", name, -1, m->buf, m->w.len);
    save("verify", name, (is_reply ? 1 : 0) | (alg == MIP_AUTH_KEYED_MD5 ? 2 : 0), m->buf, m->w.len);
    if (m->w.len > fixed)
        save("ext", name, 0, m->buf + fixed, m->w.len - fixed);
}

static void registrations(void)
{
    Msg m;
    static const uint8_t skippable[] = {0xde, 0xad};
    MipUdpTunnelRequest utrq = {.subtype = 0, .flags = MIP_UDPT_F, .encapsulation = 4};
    MipUdpTunnelReply utrp = {.subtype = 0, .reply_code = 0, .flags = MIP_UDPT_REPLY_F,
                              .keepalive = 110};
    MipRevocationSupport rev = {.flags = MIP_REV_I, .timestamp = 1234567};

    request(&m, MIP_REQ_T);
    nai(&m);
    auth(&m, MIP_EXT_MH_AUTH, MIP_AUTH_HMAC_MD5);
    save_reg(false, "request-nai-mhae-hmac", MIP_AUTH_HMAC_MD5, &m);

    request(&m, 0);
    auth(&m, MIP_EXT_MH_AUTH, MIP_AUTH_KEYED_MD5);
    save_reg(false, "request-mhae-keyed", MIP_AUTH_KEYED_MD5, &m);

    request(&m, MIP_REQ_D | MIP_REQ_T);
    nai(&m);
    ok(mip_ext_write_udp_tunnel_request(&m.w, &utrq), "utrq");
    ok(mip_ext_write_revocation(&m.w, &rev), "rev");
    ok(mip_ext_write_raw(&m.w, 200, skippable, sizeof skippable), "raw");
    auth(&m, MIP_EXT_MH_AUTH, MIP_AUTH_HMAC_MD5);
    save_reg(false, "request-udp-tunnel-revocation", MIP_AUTH_HMAC_MD5, &m);

    request(&m, MIP_REQ_B);
    nai(&m);
    auth(&m, MIP_EXT_MH_AUTH, MIP_AUTH_HMAC_MD5);
    challenge_mn_aaa(&m, FUZZ_SPI);
    auth(&m, MIP_EXT_FH_AUTH, MIP_AUTH_KEYED_MD5);
    save_reg(false, "request-mn-aaa-fhae", MIP_AUTH_HMAC_MD5, &m);

    request(&m, 0);
    nai(&m);
    auth(&m, MIP_EXT_MH_AUTH, MIP_AUTH_HMAC_MD5);
    auth(&m, MIP_EXT_MF_AUTH, MIP_AUTH_HMAC_MD5);
    save_reg(false, "request-mhae-mfae", MIP_AUTH_HMAC_MD5, &m);

    /* Over 237 octets: the RFC 3012 §8 computation then drops part of it. */
    uint8_t long_chal[250];
    for (size_t i = 0; i < sizeof long_chal; i++)
        long_chal[i] = (uint8_t)(i * 7 + 3);
    MipAuthKey aaa = {FUZZ_SPI, MIP_AUTH_HMAC_MD5, FUZZ_KEY, sizeof FUZZ_KEY};
    request(&m, 0);
    nai(&m);
    auth(&m, MIP_EXT_MH_AUTH, MIP_AUTH_HMAC_MD5);
    ok(mip_ext_write_challenge(&m.w, long_chal, sizeof long_chal), "long challenge");
    ok(mip_auth_write_mn_aaa(&m.w, &aaa, long_chal, sizeof long_chal), "mn-aaa long");
    save_reg(false, "request-mn-aaa-long-challenge", MIP_AUTH_HMAC_MD5, &m);

    request(&m, 0);
    save_reg(false, "request-bare", MIP_AUTH_HMAC_MD5, &m);

    reply(&m, MIP_CODE_ACCEPTED);
    auth(&m, MIP_EXT_MH_AUTH, MIP_AUTH_HMAC_MD5);
    save_reg(true, "reply-accepted-hmac", MIP_AUTH_HMAC_MD5, &m);

    reply(&m, MIP_CODE_HA_ID_MISMATCH);
    auth(&m, MIP_EXT_MH_AUTH, MIP_AUTH_KEYED_MD5);
    save_reg(true, "reply-133-keyed", MIP_AUTH_KEYED_MD5, &m);

    reply(&m, MIP_CODE_ACCEPTED);
    ok(mip_ext_write_udp_tunnel_reply(&m.w, &utrp), "utrp");
    auth(&m, MIP_EXT_MH_AUTH, MIP_AUTH_HMAC_MD5);
    auth(&m, MIP_EXT_MF_AUTH, MIP_AUTH_HMAC_MD5);
    save_reg(true, "reply-udp-tunnel-mfae", MIP_AUTH_HMAC_MD5, &m);

    reply(&m, MIP_CODE_FA_LIFETIME_TOO_LONG);
    auth(&m, MIP_EXT_MF_AUTH, MIP_AUTH_HMAC_MD5);
    save_reg(true, "reply-69-fa", MIP_AUTH_HMAC_MD5, &m);

    reply(&m, MIP_CODE_ACCEPTED);
    auth(&m, MIP_EXT_MH_AUTH, MIP_AUTH_HMAC_MD5);
    challenge_mn_aaa(&m, MIP_SPI_CHAP);
    save_reg(true, "reply-challenge-mn-aaa", MIP_AUTH_HMAC_MD5, &m);
}

static void tunnel_data(void)
{
    static const uint8_t inner[] = {0x45, 0, 0, 20, 0, 1, 0, 0, 64, 1, 0, 0,
                                    198, 18, 0, 50, 198, 51, 100, 7};
    static const uint8_t nh[] = {MIP_UDPT_ENCAP_IPIP, MIP_UDPT_ENCAP_GRE, MIP_UDPT_ENCAP_MINIMAL};
    static const char *names[] = {"ipip", "gre", "minimal"};

    for (size_t i = 0; i < sizeof nh; i++) {
        Msg m;
        mip_writer_init(&m.w, m.buf, sizeof m.buf);
        ok(mip_tunnel_data_write(&m.w, nh[i]), "tunnel data");
        ok(mip_writer_put(&m.w, inner, sizeof inner), "inner");
        save("tunnel_data", names[i], -1, m.buf, m.w.len);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    g_root = argv[1];
    if (mkdir(g_root, 0755) != 0 && errno != EEXIST) {
        perror(g_root);
        return 1;
    }
    adverts();
    registrations();
    tunnel_data();
    return g_failed;
}
