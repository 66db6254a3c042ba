/* Unit tests for the Registration Request and Reply fixed parts (RFC 5944
 * §3.3, §3.4): hand-written bytes, truncation, wrong types, reply codes and
 * the encoders' bounds. Extensions and authenticators have their own files. */
#include <glib.h>
#include <string.h>

#include "client/proto/registration.h"
#include "proto_test.h"

static const uint8_t request[] = {
    0x01,                   /* Type: 1, registration request */
    0x2a,                   /* Flags: D G T (S B M r x clear) */
    0x02, 0x58,             /* Lifetime: 600 s */
    0xc6, 0x12, 0x00, 0x32, /* Home Address: 198.18.0.50 */
    0xc6, 0x12, 0x00, 0x01, /* Home Agent: 198.18.0.1 */
    0xcb, 0x00, 0x71, 0x07, /* Care-of Address: 203.0.113.7 */
    0xe8, 0xfe, 0x1c, 0x80, /* Identification, high 32 bits: NTP seconds */
    0x80, 0x00, 0x0a, 0xbc, /* Identification, low 32 bits: fraction + random */
};

static const uint8_t reply[] = {
    0x03,                   /* Type: 3, registration reply */
    0x85,                   /* Code: 133, identification mismatch */
    0x01, 0x2c,             /* Lifetime: 300 s */
    0xc6, 0x12, 0x00, 0x32, /* Home Address: 198.18.0.50 */
    0xc6, 0x12, 0x00, 0x01, /* Home Agent: 198.18.0.1 */
    0xe9, 0x00, 0x00, 0x01, /* Identification, high: the home agent's seconds */
    0x80, 0x00, 0x0a, 0xbc, /* Identification, low: copied from the request */
};

static const MipRegRequest request_values = {
    .flags = MIP_REQ_D | MIP_REQ_G | MIP_REQ_T,
    .lifetime = 600,
    .home_address = 0xc6120032,
    .home_agent = 0xc6120001,
    .care_of_address = 0xcb007107,
    .identification = 0xe8fe1c8080000abcull,
};

static const MipRegReply reply_values = {
    .code = MIP_CODE_HA_ID_MISMATCH,
    .lifetime = 300,
    .home_address = 0xc6120032,
    .home_agent = 0xc6120001,
    .identification = 0xe900000180000abcull,
};

static void test_request_decoder_reads_every_field_of_hand_written_bytes(void)
{
    MipRegRequest r;
    MipRegExtensions ext;
    pt_assert_err(mip_reg_request_decode(request, sizeof(request), &r, &ext), MIP_OK);
    g_assert_cmphex(r.flags, ==, MIP_REQ_D | MIP_REQ_G | MIP_REQ_T);
    g_assert_cmpuint(r.lifetime, ==, 600);
    g_assert_cmphex(r.home_address, ==, 0xc6120032);
    g_assert_cmphex(r.home_agent, ==, 0xc6120001);
    g_assert_cmphex(r.care_of_address, ==, 0xcb007107);
    g_assert_cmphex(r.identification, ==, 0xe8fe1c8080000abcull);
    g_assert_cmpuint(ext.count, ==, 0);
    g_assert_cmpuint(ext.total_len, ==, sizeof(request));
    g_assert_false(ext.mh.present);
}

static void test_reply_decoder_reads_every_field_of_hand_written_bytes(void)
{
    MipRegReply r;
    pt_assert_err(mip_reg_reply_decode(reply, sizeof(reply), &r, NULL), MIP_OK);
    g_assert_cmpuint(r.code, ==, 133);
    g_assert_cmpuint(r.lifetime, ==, 300);
    g_assert_cmphex(r.home_address, ==, 0xc6120032);
    g_assert_cmphex(r.home_agent, ==, 0xc6120001);
    g_assert_cmphex(r.identification, ==, 0xe900000180000abcull);
}

static void test_request_encoder_writes_hand_written_bytes(void)
{
    uint8_t buf[32];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    pt_assert_err(mip_reg_request_write(&w, &request_values), MIP_OK);
    pt_assert_bytes(buf, w.len, request, sizeof(request));
}

static void test_reply_encoder_writes_hand_written_bytes(void)
{
    uint8_t buf[32];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    pt_assert_err(mip_reg_reply_write(&w, &reply_values), MIP_OK);
    pt_assert_bytes(buf, w.len, reply, sizeof(reply));
}

static MipProtoError decode_request(const uint8_t *buf, size_t len)
{
    MipRegRequest r;
    MipRegExtensions ext;
    memset(&r, 0x5c, sizeof(r));
    memset(&ext, 0x5c, sizeof(ext));
    MipRegRequest r0 = r;
    MipRegExtensions ext0 = ext;
    MipProtoError err = mip_reg_request_decode(buf, len, &r, &ext);
    if (err != MIP_OK) {
        g_assert_true(memcmp(&r, &r0, sizeof(r)) == 0);
        g_assert_true(memcmp(&ext, &ext0, sizeof(ext)) == 0);
    }
    return err;
}

static MipProtoError decode_reply(const uint8_t *buf, size_t len)
{
    MipRegReply r;
    memset(&r, 0x5c, sizeof(r));
    MipRegReply r0 = r;
    MipProtoError err = mip_reg_reply_decode(buf, len, &r, NULL);
    if (err != MIP_OK)
        g_assert_true(memcmp(&r, &r0, sizeof(r)) == 0);
    return err;
}

static void test_request_decoder_reports_every_truncation(void)
{
    pt_check_truncations(decode_request, request, sizeof(request), NULL, NULL, 0);
}

static void test_reply_decoder_reports_every_truncation(void)
{
    pt_check_truncations(decode_reply, reply, sizeof(reply), NULL, NULL, 0);
}

static void test_decoders_reject_the_other_message_type(void)
{
    pt_assert_err(decode_request(reply, sizeof(reply)), MIP_ERR_BAD_TYPE);
    pt_assert_err(decode_reply(request, sizeof(request)), MIP_ERR_BAD_TYPE);
    const uint8_t tunnel_data[] = {0x04, 0x04, 0x00, 0x00};
    pt_assert_err(decode_request(tunnel_data, sizeof(tunnel_data)), MIP_ERR_BAD_TYPE);
    MipRegRequest r;
    pt_assert_err(mip_reg_request_decode(request, sizeof(request), NULL, NULL), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_reg_request_decode(NULL, 5, &r, NULL), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_reg_reply_decode(reply, sizeof(reply), NULL, NULL), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_ext_parse(NULL, 0, 5, NULL), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_reg_request_write(NULL, &request_values), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_reg_reply_write(NULL, &reply_values), MIP_ERR_BAD_VALUE);
}

static void test_decoders_keep_reserved_request_bits_as_received(void)
{
    uint8_t m[sizeof(request)];
    memcpy(m, request, sizeof(m));
    m[1] = 0xff; /* r and x are "ignored on reception": decode, report them */
    MipRegRequest r;
    pt_assert_err(mip_reg_request_decode(m, sizeof(m), &r, NULL), MIP_OK);
    g_assert_cmphex(r.flags, ==, 0xff);
}

static MipProtoError encode_request(MipWriter *w, const void *ctx)
{
    return mip_reg_request_write(w, ctx);
}

static MipProtoError encode_reply(MipWriter *w, const void *ctx)
{
    return mip_reg_reply_write(w, ctx);
}

static void test_encoders_never_overflow(void)
{
    pt_check_no_space(encode_request, &request_values, NULL, 0, MIP_REG_REQUEST_LEN);
    pt_check_no_space(encode_reply, &reply_values, NULL, 0, MIP_REG_REPLY_LEN);
}

static void test_encoders_insist_on_an_empty_writer(void)
{
    uint8_t buf[64];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    w.len = 1; /* authenticators cover from byte 0: a prefix would corrupt them */
    pt_assert_err(mip_reg_request_write(&w, &request_values), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_reg_reply_write(&w, &reply_values), MIP_ERR_BAD_VALUE);
    g_assert_cmpuint(w.len, ==, 1);
}

static void test_request_and_reply_round_trip_extreme_values(void)
{
    const MipRegRequest reqs[] = {
        {0},
        {.flags = 0xff,
         .lifetime = 0xffff,
         .home_address = 0xffffffff,
         .home_agent = 0x80000000,
         .care_of_address = 1,
         .identification = UINT64_MAX},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(reqs); i++) {
        uint8_t buf[24];
        MipWriter w;
        mip_writer_init(&w, buf, sizeof(buf));
        pt_assert_err(mip_reg_request_write(&w, &reqs[i]), MIP_OK);
        MipRegRequest got;
        pt_assert_err(mip_reg_request_decode(buf, w.len, &got, NULL), MIP_OK);
        g_assert_cmphex(got.flags, ==, reqs[i].flags);
        g_assert_cmpuint(got.lifetime, ==, reqs[i].lifetime);
        g_assert_cmphex(got.home_address, ==, reqs[i].home_address);
        g_assert_cmphex(got.home_agent, ==, reqs[i].home_agent);
        g_assert_cmphex(got.care_of_address, ==, reqs[i].care_of_address);
        g_assert_cmphex(got.identification, ==, reqs[i].identification);
    }
    const MipRegReply rep = {.code = 255,
                             .lifetime = 1,
                             .home_address = 2,
                             .home_agent = 3,
                             .identification = 0x0123456789abcdefull};
    uint8_t buf[20];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    pt_assert_err(mip_reg_reply_write(&w, &rep), MIP_OK);
    MipRegReply got;
    pt_assert_err(mip_reg_reply_decode(buf, w.len, &got, NULL), MIP_OK);
    g_assert_cmpuint(got.code, ==, rep.code);
    g_assert_cmpuint(got.lifetime, ==, rep.lifetime);
    g_assert_cmphex(got.home_address, ==, rep.home_address);
    g_assert_cmphex(got.home_agent, ==, rep.home_agent);
    g_assert_cmphex(got.identification, ==, rep.identification);
}

static void test_reply_codes_have_names_and_only_0_and_1_accept(void)
{
    g_assert_cmpstr(mip_reg_code_name(0), ==, "accepted");
    g_assert_cmpstr(mip_reg_code_name(133), ==, "denied by home agent: identification mismatch");
    g_assert_cmpstr(mip_reg_code_name(106), ==, "denied by foreign agent: stale challenge");
    g_assert_cmpstr(mip_reg_code_name(120), ==, "denied by foreign agent");
    g_assert_cmpstr(mip_reg_code_name(200), ==, "denied by home agent");
    g_assert_cmpstr(mip_reg_code_name(2), ==, "unknown code");
    for (unsigned c = 0; c < 256; c++) {
        g_assert_nonnull(mip_reg_code_name((uint8_t)c));
        g_assert_true(mip_reg_code_accepted((uint8_t)c) == (c <= 1));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name) g_test_add_func("/proto/registration/" #name, test_##name)
    ADD(request_decoder_reads_every_field_of_hand_written_bytes);
    ADD(reply_decoder_reads_every_field_of_hand_written_bytes);
    ADD(request_encoder_writes_hand_written_bytes);
    ADD(reply_encoder_writes_hand_written_bytes);
    ADD(request_decoder_reports_every_truncation);
    ADD(reply_decoder_reports_every_truncation);
    ADD(decoders_reject_the_other_message_type);
    ADD(decoders_keep_reserved_request_bits_as_received);
    ADD(encoders_never_overflow);
    ADD(encoders_insist_on_an_empty_writer);
    ADD(request_and_reply_round_trip_extreme_values);
    ADD(reply_codes_have_names_and_only_0_and_1_accept);
#undef ADD
    return g_test_run();
}
