/* Unit tests for registration extensions: hand-written bytes for 131, 132,
 * 144, 44 and 137 (RFC 2794, 3012, 3519, 3543), the placement record of the
 * authentication extensions, and the RFC 5944 §1.9 walking rules. */
#include <glib.h>
#include <string.h>

#include "client/proto/registration.h"
#include "ext_vectors.h"
#include "proto_test.h"

/* Builds req_head followed by the given extensions into out; returns the length. */
static size_t build(uint8_t *out, const uint8_t *const *exts, const size_t *lens, size_t n)
{
    size_t len = sizeof(req_head);
    memcpy(out, req_head, len);
    for (size_t i = 0; i < n; i++) {
        memcpy(out + len, exts[i], lens[i]);
        len += lens[i];
    }
    return len;
}

static MipProtoError parse_with(const uint8_t *ext, size_t ext_len, MipRegExtensions *out)
{
    uint8_t m[512];
    const uint8_t *exts[] = {ext};
    size_t len = build(m, exts, &ext_len, 1);
    MipRegRequest r;
    return mip_reg_request_decode(m, len, &r, out);
}

static MipProtoError parse_twice(const uint8_t *ext, size_t ext_len)
{
    uint8_t m[512];
    const uint8_t *exts[] = {ext, ext};
    const size_t lens[] = {ext_len, ext_len};
    size_t len = build(m, exts, lens, 2);
    MipRegRequest r;
    return mip_reg_request_decode(m, len, &r, NULL);
}

#define FULL_EXTS                                                                                  \
    const uint8_t *exts[] = {ext_nai,       ext_challenge, ext_udpt_req, ext_revocation,           \
                             ext_skippable, ext_udpt_rep,  ext_mn_aaa,   ext_mh};                  \
    const size_t lens[] = {sizeof(ext_nai),        sizeof(ext_challenge), sizeof(ext_udpt_req),    \
                           sizeof(ext_revocation), sizeof(ext_skippable), sizeof(ext_udpt_rep),    \
                           sizeof(ext_mn_aaa),     sizeof(ext_mh)}

static void test_walker_reads_every_field_of_hand_written_extensions(void)
{
    FULL_EXTS;
    uint8_t m[512];
    size_t len = build(m, exts, lens, G_N_ELEMENTS(exts));
    MipRegRequest r;
    MipRegExtensions e;
    pt_assert_err(mip_reg_request_decode(m, len, &r, &e), MIP_OK);
    g_assert_cmpuint(e.count, ==, 8);
    g_assert_cmpuint(e.skipped, ==, 1);
    g_assert_cmpuint(e.total_len, ==, len);
    pt_assert_bytes(e.nai, e.nai_len, (const uint8_t *)"mn@example.net", 14);
    pt_assert_bytes(e.challenge, e.challenge_len, ext_challenge + 2, 8);
    g_assert_true(e.has_udp_tunnel_request);
    g_assert_cmpuint(e.udp_tunnel_request.subtype, ==, 0);
    g_assert_cmphex(e.udp_tunnel_request.flags, ==, MIP_UDPT_F);
    g_assert_cmpuint(e.udp_tunnel_request.encapsulation, ==, MIP_UDPT_ENCAP_IPIP);
    g_assert_true(e.has_udp_tunnel_reply);
    g_assert_cmpuint(e.udp_tunnel_reply.subtype, ==, 0);
    g_assert_cmpuint(e.udp_tunnel_reply.reply_code, ==, MIP_UDPT_REPLY_DECLINED);
    g_assert_cmphex(e.udp_tunnel_reply.flags, ==, MIP_UDPT_REPLY_F);
    g_assert_cmpuint(e.udp_tunnel_reply.keepalive, ==, 30);
    g_assert_true(e.has_revocation);
    g_assert_cmphex(e.revocation.flags, ==, MIP_REV_I);
    g_assert_cmpuint(e.revocation.timestamp, ==, 1234567);
}

static void test_walker_records_where_each_authenticator_sits(void)
{
    FULL_EXTS;
    uint8_t m[512];
    size_t len = build(m, exts, lens, G_N_ELEMENTS(exts));
    MipRegExtensions e;
    pt_assert_err(mip_ext_parse(m, sizeof(req_head), len, &e), MIP_OK);
    size_t aaa_at = len - sizeof(ext_mh) - sizeof(ext_mn_aaa);
    g_assert_true(e.mn_aaa.present);
    g_assert_cmpuint(e.mn_aaa.type, ==, 36);
    g_assert_cmpuint(e.mn_aaa.subtype, ==, 1);
    g_assert_cmpuint(e.mn_aaa.spi, ==, 257);
    g_assert_cmpuint(e.mn_aaa.offset, ==, aaa_at);
    g_assert_cmpuint(e.mn_aaa.covered_len, ==, aaa_at + 8); /* type subtype len16 SPI */
    g_assert_cmpuint(e.mn_aaa.end, ==, aaa_at + 12);
    pt_assert_bytes(e.mn_aaa.authenticator, e.mn_aaa.authenticator_len, ext_mn_aaa + 8, 4);
    size_t mh_at = len - sizeof(ext_mh);
    g_assert_true(e.mh.present);
    g_assert_cmpuint(e.mh.type, ==, 32);
    g_assert_cmpuint(e.mh.subtype, ==, 0);
    g_assert_cmpuint(e.mh.spi, ==, 256);
    g_assert_cmpuint(e.mh.offset, ==, mh_at);
    g_assert_cmpuint(e.mh.covered_len, ==, mh_at + 6); /* type len SPI */
    g_assert_cmpuint(e.mh.end, ==, len);
    g_assert_true(e.mh.authenticator == m + mh_at + 6);
    g_assert_cmpuint(e.mh.authenticator_len, ==, 16);
    g_assert_false(e.mf.present);
    g_assert_false(e.fh.present);
}

static MipProtoError decode_full_request(const uint8_t *buf, size_t len)
{
    MipRegRequest r;
    MipRegExtensions e;
    return mip_reg_request_decode(buf, len, &r, &e);
}

static void test_walker_reports_every_truncation(void)
{
    FULL_EXTS;
    uint8_t m[512];
    size_t len = build(m, exts, lens, G_N_ELEMENTS(exts));
    /* Registration messages have no checksum: a cut at an extension boundary
     * is a shorter valid message, which the authenticator check catches. */
    size_t ok_lens[G_N_ELEMENTS(exts)];
    MipProtoError at_ok[G_N_ELEMENTS(exts)];
    size_t at = sizeof(req_head);
    for (size_t i = 0; i < G_N_ELEMENTS(exts); i++) {
        ok_lens[i] = at;
        at_ok[i] = MIP_OK;
        at += lens[i];
    }
    pt_check_truncations(decode_full_request, m, len, ok_lens, at_ok, G_N_ELEMENTS(exts));
}

static void test_request_decoder_rejects_unknown_mandatory_extension(void)
{
    for (unsigned type = 0; type < 128; type++) {
        if (type == 32 || type == 33 || type == 34 || type == 36 || type == 44)
            continue;
        const uint8_t ext[] = {(uint8_t)type, 0x00};
        pt_assert_err(parse_with(ext, sizeof(ext), NULL), MIP_ERR_UNKNOWN_EXTENSION);
        pt_assert_err(parse_with(ext, 1, NULL), MIP_ERR_UNKNOWN_EXTENSION);
    }
}

static void test_reply_decoder_rejects_unknown_mandatory_extension(void)
{
    const uint8_t reply[] = {
        0x03, 0x00, 0x01, 0x2c, 0xc6, 0x12, 0x00, 0x32, 0xc6, 0x12, 0x00,
        0x01, 0,    0,    0,    1,    0,    0,    0,    2, /* fixed part, then extension type 35,
                                                              length 0 */
        0x23, 0x00,
    };
    MipRegReply r;
    pt_assert_err(mip_reg_reply_decode(reply, sizeof(reply), &r, NULL), MIP_ERR_UNKNOWN_EXTENSION);
    pt_assert_err(mip_reg_reply_decode(reply, sizeof(reply) - 2, &r, NULL), MIP_OK);
}

static void test_decoder_skips_every_unknown_128_to_255(void)
{
    for (unsigned type = 128; type < 256; type++) {
        if (type == 131 || type == 132 || type == 137 || type == 144)
            continue;
        const uint8_t ext[] = {(uint8_t)type, 0x02, 0xaa, 0xbb};
        MipRegExtensions e;
        pt_assert_err(parse_with(ext, sizeof(ext), &e), MIP_OK);
        g_assert_cmpuint(e.skipped, ==, 1);
        g_assert_cmpuint(e.count, ==, 1);
        pt_assert_err(parse_twice(ext, sizeof(ext)), MIP_OK); /* no once-only rule */
        pt_assert_err(parse_with(ext, 3, NULL), MIP_ERR_TRUNCATED);
    }
}

static void test_decoder_rejects_duplicates_of_once_only_extensions(void)
{
    const uint8_t mf[] = {0x21, 0x04, 0, 0, 1, 0};
    const uint8_t fh[] = {0x22, 0x04, 0, 0, 1, 0};
    pt_assert_err(parse_twice(ext_mh, sizeof(ext_mh)), MIP_ERR_DUPLICATE_EXTENSION);
    pt_assert_err(parse_twice(mf, sizeof(mf)), MIP_ERR_DUPLICATE_EXTENSION);
    pt_assert_err(parse_twice(fh, sizeof(fh)), MIP_ERR_DUPLICATE_EXTENSION);
    pt_assert_err(parse_twice(ext_mn_aaa, sizeof(ext_mn_aaa)), MIP_ERR_DUPLICATE_EXTENSION);
    pt_assert_err(parse_twice(ext_nai, sizeof(ext_nai)), MIP_ERR_DUPLICATE_EXTENSION);
    pt_assert_err(parse_twice(ext_challenge, sizeof(ext_challenge)), MIP_ERR_DUPLICATE_EXTENSION);
    pt_assert_err(parse_twice(ext_udpt_req, sizeof(ext_udpt_req)), MIP_ERR_DUPLICATE_EXTENSION);
    pt_assert_err(parse_twice(ext_udpt_rep, sizeof(ext_udpt_rep)), MIP_ERR_DUPLICATE_EXTENSION);
    pt_assert_err(parse_twice(ext_revocation, sizeof(ext_revocation)), MIP_ERR_DUPLICATE_EXTENSION);
}

static void test_decoder_rejects_lengths_the_layouts_forbid(void)
{
    const uint8_t short_auth[] = {0x20, 0x03, 0, 0, 1}; /* no room for the SPI */
    const uint8_t short_gen[] = {0x24, 0x01, 0x00, 0x03, 0, 0, 1};
    const uint8_t empty_nai[] = {0x83, 0x00};
    const uint8_t empty_chal[] = {0x84, 0x00};
    const uint8_t udpt_5[] = {0x90, 0x05, 0, 0, 0x80, 4, 0};
    const uint8_t udpt_7[] = {0x90, 0x07, 0, 0, 0x80, 4, 0, 0, 0};
    const uint8_t udpr_7[] = {0x2c, 0x07, 0, 0, 0, 0, 0, 30, 0};
    const uint8_t rev_4[] = {0x89, 0x04, 0x80, 0, 0, 0};
    pt_assert_err(parse_with(short_auth, sizeof(short_auth), NULL), MIP_ERR_BAD_LENGTH);
    pt_assert_err(parse_with(short_gen, sizeof(short_gen), NULL), MIP_ERR_BAD_LENGTH);
    pt_assert_err(parse_with(empty_nai, sizeof(empty_nai), NULL), MIP_ERR_BAD_LENGTH);
    pt_assert_err(parse_with(empty_chal, sizeof(empty_chal), NULL), MIP_ERR_BAD_LENGTH);
    pt_assert_err(parse_with(udpt_5, sizeof(udpt_5), NULL), MIP_ERR_BAD_LENGTH);
    pt_assert_err(parse_with(udpt_7, sizeof(udpt_7), NULL), MIP_ERR_BAD_LENGTH);
    pt_assert_err(parse_with(udpr_7, sizeof(udpr_7), NULL), MIP_ERR_BAD_LENGTH);
    pt_assert_err(parse_with(rev_4, sizeof(rev_4), NULL), MIP_ERR_BAD_LENGTH);
}

static void test_decoder_reads_the_generalized_length_as_16_bits(void)
{
    uint8_t big[4 + 0x104];
    memset(big, 0x11, sizeof(big));
    big[0] = 0x24;
    big[1] = 0x01;
    big[2] = 0x01; /* Length 0x0104 = 260: more than an 8-bit length could say */
    big[3] = 0x04;
    MipRegExtensions e;
    pt_assert_err(parse_with(big, sizeof(big), &e), MIP_OK);
    g_assert_cmpuint(e.mn_aaa.authenticator_len, ==, 256);
    pt_assert_err(parse_with(big, sizeof(big) - 1, NULL), MIP_ERR_TRUNCATED);
    pt_assert_err(parse_with(big, 3, NULL), MIP_ERR_TRUNCATED);
    big[1] = 0x02; /* FA-FA: a subtype this client cannot verify */
    pt_assert_err(parse_with(big, sizeof(big), NULL), MIP_ERR_UNKNOWN_EXTENSION);
}

static void test_walker_validates_even_without_output_and_checks_start(void)
{
    const uint8_t ext[] = {0x30, 0x00};
    uint8_t m[32];
    const uint8_t *exts[] = {ext};
    const size_t lens[] = {sizeof(ext)};
    size_t len = build(m, exts, lens, 1);
    pt_assert_err(mip_ext_parse(m, 24, len, NULL), MIP_ERR_UNKNOWN_EXTENSION);
    pt_assert_err(mip_ext_parse(m, 24, 24, NULL), MIP_OK);
    pt_assert_err(mip_ext_parse(m, 25, 24, NULL), MIP_ERR_TRUNCATED);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name) g_test_add_func("/proto/extensions/" #name, test_##name)
    ADD(walker_reads_every_field_of_hand_written_extensions);
    ADD(walker_records_where_each_authenticator_sits);
    ADD(walker_reports_every_truncation);
    ADD(request_decoder_rejects_unknown_mandatory_extension);
    ADD(reply_decoder_rejects_unknown_mandatory_extension);
    ADD(decoder_skips_every_unknown_128_to_255);
    ADD(decoder_rejects_duplicates_of_once_only_extensions);
    ADD(decoder_rejects_lengths_the_layouts_forbid);
    ADD(decoder_reads_the_generalized_length_as_16_bits);
    ADD(walker_validates_even_without_output_and_checks_start);
#undef ADD
    return g_test_run();
}
