/* Unit tests for the MN-AAA generalized authentication extension (type 36,
 * subtype 1) computed as RFC 3012 §8 says, against an independent MD5()
 * rendering of that formula over hand-written bytes. */
#include "auth_test_msg.h"

#include "auth_vectors.h"
#include "client/proto/auth.h"
#include "client/proto/registration.h"
#include "ext_vectors.h"
#include "proto_test.h"

static const MipAuthKey chap_key = {MIP_SPI_CHAP, MIP_AUTH_HMAC_MD5, key_a, sizeof(key_a)};

/* Request, NAI, MN-FA challenge (given), then MN-AAA with the given SPI. */
static size_t build(Msg *m, const uint8_t *challenge_ext, size_t challenge_ext_len)
{
    msg_add(m, req_head, sizeof(req_head));
    msg_add(m, ext_nai, sizeof(ext_nai));
    if (challenge_ext != NULL)
        msg_add(m, challenge_ext, challenge_ext_len);
    return msg_add(m, mn_aaa_chap, sizeof(mn_aaa_chap));
}

static void check_against_formula(const uint8_t *challenge_ext, size_t challenge_ext_len)
{
    const uint8_t *ch = challenge_ext + 2;
    size_t ch_len = challenge_ext[1];
    Msg m = {0};
    size_t at = build(&m, challenge_ext, challenge_ext_len);
    msg_fill_mn_aaa(&m, at + 8, key_a, sizeof(key_a), ch, ch_len);

    uint8_t buf[1024];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    pt_assert_err(mip_writer_put(&w, m.b, at), MIP_OK);
    pt_assert_err(mip_auth_write_mn_aaa(&w, &chap_key, ch, ch_len), MIP_OK);
    pt_assert_bytes(buf, w.len, m.b, m.len);

    MipRegRequest r;
    MipRegExtensions e;
    pt_assert_err(mip_reg_request_decode(m.b, m.len, &r, &e), MIP_OK);
    g_assert_cmpuint(e.mn_aaa.covered_len, ==, at + 8);
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.mn_aaa, &chap_key), MIP_OK);
    m.b[at + 8] ^= 0x80;
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.mn_aaa, &chap_key), MIP_ERR_AUTH_MISMATCH);
}

static void test_mn_aaa_with_short_challenge_uses_it_whole(void)
{
    /* Under 238 octets the challenge is used as is, first octet twice. */
    check_against_formula(ext_challenge, sizeof(ext_challenge));
}

static void test_mn_aaa_with_long_challenge_uses_its_last_237_octets(void)
{
    for (size_t n = 236; n <= 255; n++) {
        uint8_t ext[2 + 255];
        ext[0] = 0x84; /* Type: 132, MN-FA challenge */
        ext[1] = (uint8_t)n;
        for (size_t i = 0; i < n; i++)
            ext[2 + i] = (uint8_t)(i * 7 + 1);
        check_against_formula(ext, 2 + n);
    }
}

static void test_mn_aaa_verify_needs_the_challenge_before_it(void)
{
    Msg m = {0};
    size_t at = build(&m, NULL, 0);
    msg_fill_mn_aaa(&m, at + 8, key_a, sizeof(key_a), ext_challenge + 2, 8);
    MipRegRequest r;
    MipRegExtensions e;
    pt_assert_err(mip_reg_request_decode(m.b, m.len, &r, &e), MIP_OK);
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.mn_aaa, &chap_key), MIP_ERR_AUTH_MISSING);
    msg_add(&m, ext_challenge, sizeof(ext_challenge)); /* present, but after */
    pt_assert_err(mip_reg_request_decode(m.b, m.len, &r, &e), MIP_OK);
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.mn_aaa, &chap_key), MIP_ERR_EXTENSION_ORDER);
}

static void test_mn_aaa_accepts_chap_spi_but_no_other_reserved_spi(void)
{
    uint8_t buf[256];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    pt_assert_err(mip_writer_put(&w, req_head, sizeof(req_head)), MIP_OK);
    const MipAuthKey spi3 = {3, MIP_AUTH_HMAC_MD5, key_a, sizeof(key_a)};
    const MipAuthKey spi300 = {300, MIP_AUTH_HMAC_MD5, key_a, sizeof(key_a)};
    pt_assert_err(mip_auth_write_mn_aaa(&w, &spi3, ext_challenge + 2, 8), MIP_ERR_SPI_RESERVED);
    pt_assert_err(mip_auth_write_mn_aaa(&w, &spi300, NULL, 8), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_auth_write_mn_aaa(&w, &spi300, ext_challenge + 2, 0), MIP_ERR_BAD_LENGTH);
    g_assert_cmpuint(w.len, ==, sizeof(req_head));
    pt_assert_err(mip_auth_write_mn_aaa(&w, &spi300, ext_challenge + 2, 8), MIP_OK);
    g_assert_cmpuint(w.len, ==, sizeof(req_head) + sizeof(mn_aaa_chap));
    /* The other extensions keep the 256 floor: CHAP_SPI means nothing there. */
    const MipAuthKey mh_chap = {MIP_SPI_CHAP, MIP_AUTH_HMAC_MD5, key_a, sizeof(key_a)};
    pt_assert_err(mip_auth_write(&w, MIP_EXT_MH_AUTH, &mh_chap), MIP_ERR_SPI_RESERVED);

    Msg m = {0};
    size_t at = build(&m, ext_challenge, sizeof(ext_challenge));
    m.b[at + 7] = 3; /* SPI 3 on the wire */
    msg_fill_mn_aaa(&m, at + 8, key_a, sizeof(key_a), ext_challenge + 2, 8);
    MipRegRequest r;
    MipRegExtensions e;
    pt_assert_err(mip_reg_request_decode(m.b, m.len, &r, &e), MIP_OK);
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.mn_aaa, &spi3), MIP_ERR_SPI_RESERVED);
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.mn_aaa, &chap_key), MIP_ERR_SPI_RESERVED);
}

static void test_mn_aaa_verifies_in_a_reply_too_and_needs_a_registration_message(void)
{
    Msg m = {0};
    msg_add(&m, reply_head, sizeof(reply_head));
    msg_add(&m, ext_challenge, sizeof(ext_challenge));
    size_t at = msg_add(&m, mn_aaa_chap, sizeof(mn_aaa_chap));
    msg_fill_mn_aaa(&m, at + 8, key_a, sizeof(key_a), ext_challenge + 2, 8);
    MipRegReply r;
    MipRegExtensions e;
    pt_assert_err(mip_reg_reply_decode(m.b, m.len, &r, &e), MIP_OK);
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.mn_aaa, &chap_key), MIP_OK);
    m.b[0] = 2; /* not a request or reply: no way to find the challenge */
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.mn_aaa, &chap_key), MIP_ERR_BAD_TYPE);
}

typedef struct MnAaaCtx {
    const MipAuthKey *key;
} MnAaaCtx;

static MipProtoError write_mn_aaa(MipWriter *w, const void *ctx)
{
    return mip_auth_write_mn_aaa(w, ((const MnAaaCtx *)ctx)->key, ext_challenge + 2, 8);
}

static void test_mn_aaa_writer_never_overflows(void)
{
    MnAaaCtx ctx = {&chap_key};
    pt_check_no_space(write_mn_aaa, &ctx, req_head, sizeof(req_head),
                      sizeof(req_head) + sizeof(mn_aaa_chap));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name) g_test_add_func("/proto/mn_aaa/" #name, test_##name)
    ADD(mn_aaa_with_short_challenge_uses_it_whole);
    ADD(mn_aaa_with_long_challenge_uses_its_last_237_octets);
    ADD(mn_aaa_verify_needs_the_challenge_before_it);
    ADD(mn_aaa_accepts_chap_spi_but_no_other_reserved_spi);
    ADD(mn_aaa_verifies_in_a_reply_too_and_needs_a_registration_message);
    ADD(mn_aaa_writer_never_overflows);
#undef ADD
    return g_test_run();
}
