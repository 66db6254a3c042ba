/* Unit tests for the Mobile-Home, Mobile-Foreign and Foreign-Home
 * authentication extensions: authenticators equal to independently computed
 * HMAC-MD5 / keyed MD5 over hand-written bytes, and every verification error. */
#include "auth_test_msg.h"

#include "auth_vectors.h"
#include "client/proto/auth.h"
#include "client/proto/registration.h"
#include "ext_vectors.h"
#include "proto_test.h"

static const MipAuthKey mn_ha_key = {256, MIP_AUTH_HMAC_MD5, key_a, sizeof(key_a)};
static const MipAuthKey mn_fa_key = {300, MIP_AUTH_HMAC_MD5, key_b, sizeof(key_b)};
static const MipAuthKey fa_ha_key = {301, MIP_AUTH_KEYED_MD5, key_b, sizeof(key_b)};

/* The library's version of m: m's bytes up to `upto`, then an authenticator. */
static void lib_write(MipWriter *w, uint8_t *buf, size_t cap, const Msg *m, size_t upto,
                      uint8_t type, const MipAuthKey *key)
{
    mip_writer_init(w, buf, cap);
    pt_assert_err(mip_writer_put(w, m->b, upto), MIP_OK);
    pt_assert_err(mip_auth_write(w, type, key), MIP_OK);
}

static void decode_request(const Msg *m, MipRegExtensions *e)
{
    MipRegRequest r;
    pt_assert_err(mip_reg_request_decode(m->b, m->len, &r, e), MIP_OK);
}

static void test_mhae_hmac_md5_equals_independent_hmac_over_hand_written_bytes(void)
{
    Msg m = {0};
    msg_add(&m, req_head, sizeof(req_head));
    size_t at = msg_add(&m, mhae_256, sizeof(mhae_256));
    msg_fill_hmac(&m, at + 6, key_a, sizeof(key_a));

    uint8_t buf[128];
    MipWriter w;
    lib_write(&w, buf, sizeof(buf), &m, at, MIP_EXT_MH_AUTH, &mn_ha_key);
    pt_assert_bytes(buf, w.len, m.b, m.len);

    MipRegExtensions e;
    decode_request(&m, &e);
    g_assert_cmpuint(e.mh.offset, ==, 24);
    g_assert_cmpuint(e.mh.covered_len, ==, 30);
    g_assert_cmpuint(e.mh.end, ==, 46);
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.mh, &mn_ha_key), MIP_OK);
    pt_assert_err(mip_auth_verify_mh(m.b, m.len, &e, &mn_ha_key), MIP_OK);
}

static void test_mhae_keyed_md5_equals_independent_prefix_suffix_md5(void)
{
    const MipAuthKey keyed = {256, MIP_AUTH_KEYED_MD5, key_a, sizeof(key_a)};
    Msg m = {0};
    msg_add(&m, reply_head, sizeof(reply_head));
    size_t at = msg_add(&m, mhae_256, sizeof(mhae_256));
    msg_fill_keyed_md5(&m, at + 6, key_a, sizeof(key_a));

    uint8_t buf[128];
    MipWriter w;
    lib_write(&w, buf, sizeof(buf), &m, at, MIP_EXT_MH_AUTH, &keyed);
    pt_assert_bytes(buf, w.len, m.b, m.len);

    MipRegReply r;
    MipRegExtensions e;
    pt_assert_err(mip_reg_reply_decode(m.b, m.len, &r, &e), MIP_OK);
    pt_assert_err(mip_auth_verify_mh(m.b, m.len, &e, &keyed), MIP_OK);
    pt_assert_err(mip_auth_verify_mh(m.b, m.len, &e, &mn_ha_key), MIP_ERR_AUTH_MISMATCH);
}

/* Request, NAI, MHAE, MFAE, FHAE: each authenticator covers all before it. */
static void build_chain(Msg *m, size_t *mh, size_t *mf, size_t *fh)
{
    msg_add(m, req_head, sizeof(req_head));
    msg_add(m, ext_nai, sizeof(ext_nai));
    *mh = msg_add(m, mhae_256, sizeof(mhae_256));
    msg_fill_hmac(m, *mh + 6, key_a, sizeof(key_a));
    *mf = msg_add(m, mfae_300, sizeof(mfae_300));
    msg_fill_hmac(m, *mf + 6, key_b, sizeof(key_b));
    *fh = msg_add(m, fhae_301, sizeof(fhae_301));
    msg_fill_keyed_md5(m, *fh + 6, key_b, sizeof(key_b));
}

static void test_later_authenticators_cover_earlier_extensions(void)
{
    Msg m = {0};
    size_t mh, mf, fh;
    build_chain(&m, &mh, &mf, &fh);

    uint8_t buf[256];
    MipWriter w;
    lib_write(&w, buf, sizeof(buf), &m, mf, MIP_EXT_MF_AUTH, &mn_fa_key);
    pt_assert_bytes(buf, w.len, m.b, fh);
    lib_write(&w, buf, sizeof(buf), &m, fh, MIP_EXT_FH_AUTH, &fa_ha_key);
    pt_assert_bytes(buf, w.len, m.b, m.len);

    MipRegExtensions e;
    decode_request(&m, &e);
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.mf, &mn_fa_key), MIP_OK);
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.fh, &fa_ha_key), MIP_OK);
    /* MFAE and FHAE may follow the MHAE: they protect other hops. */
    pt_assert_err(mip_auth_verify_mh(m.b, m.len, &e, &mn_ha_key), MIP_OK);
}

static void test_verify_reports_a_missing_authenticator(void)
{
    Msg m = {0};
    msg_add(&m, req_head, sizeof(req_head));
    msg_add(&m, ext_nai, sizeof(ext_nai));
    MipRegExtensions e;
    decode_request(&m, &e);
    pt_assert_err(mip_auth_verify_mh(m.b, m.len, &e, &mn_ha_key), MIP_ERR_AUTH_MISSING);
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.mf, &mn_fa_key), MIP_ERR_AUTH_MISSING);
    pt_assert_err(mip_auth_verify(m.b, m.len, NULL, &mn_fa_key), MIP_ERR_AUTH_MISSING);
    pt_assert_err(mip_auth_verify_mh(m.b, m.len, NULL, &mn_ha_key), MIP_ERR_AUTH_MISSING);
}

static MipProtoError verify_with_trailer(const uint8_t *trailer, size_t n)
{
    Msg m = {0};
    msg_add(&m, req_head, sizeof(req_head));
    size_t at = msg_add(&m, mhae_256, sizeof(mhae_256));
    msg_fill_hmac(&m, at + 6, key_a, sizeof(key_a));
    msg_add(&m, trailer, n);
    MipRegExtensions e;
    decode_request(&m, &e);
    return mip_auth_verify_mh(m.b, m.len, &e, &mn_ha_key);
}

static void test_verify_mh_rejects_any_non_authenticator_after_the_mhae(void)
{
    pt_assert_err(verify_with_trailer(ext_nai, sizeof(ext_nai)), MIP_ERR_AUTH_NOT_LAST);
    pt_assert_err(verify_with_trailer(ext_skippable, sizeof(ext_skippable)), MIP_ERR_AUTH_NOT_LAST);
    pt_assert_err(verify_with_trailer(ext_udpt_req, sizeof(ext_udpt_req)), MIP_ERR_AUTH_NOT_LAST);
    pt_assert_err(verify_with_trailer(ext_revocation, sizeof(ext_revocation)),
                  MIP_ERR_AUTH_NOT_LAST);
    /* Authenticators for other parties are allowed, in any order. */
    uint8_t others[sizeof(fhae_301) + sizeof(mfae_300) + sizeof(mn_aaa_chap)];
    memcpy(others, fhae_301, sizeof(fhae_301));
    memcpy(others + sizeof(fhae_301), mn_aaa_chap, sizeof(mn_aaa_chap));
    memcpy(others + sizeof(fhae_301) + sizeof(mn_aaa_chap), mfae_300, sizeof(mfae_300));
    pt_assert_err(verify_with_trailer(others, sizeof(others)), MIP_OK);
    /* A foreign agent may append a fresh challenge for the next request
     * (RFC 3012 §3.2), before or after its own authenticator. */
    pt_assert_err(verify_with_trailer(ext_challenge, sizeof(ext_challenge)), MIP_OK);
    uint8_t fa_added[sizeof(ext_challenge) + sizeof(mfae_300)];
    memcpy(fa_added, ext_challenge, sizeof(ext_challenge));
    memcpy(fa_added + sizeof(ext_challenge), mfae_300, sizeof(mfae_300));
    pt_assert_err(verify_with_trailer(fa_added, sizeof(fa_added)), MIP_OK);
    memcpy(fa_added + sizeof(ext_challenge), ext_nai, sizeof(ext_nai));
    pt_assert_err(verify_with_trailer(fa_added, sizeof(ext_challenge) + sizeof(ext_nai)),
                  MIP_ERR_AUTH_NOT_LAST);
    /* ...but not with anything else between them. */
    memcpy(others + sizeof(fhae_301), ext_skippable, sizeof(ext_skippable));
    pt_assert_err(verify_with_trailer(others, sizeof(fhae_301) + sizeof(ext_skippable)),
                  MIP_ERR_AUTH_NOT_LAST);
}

static void test_verify_detects_tampering_with_any_covered_or_authenticator_byte(void)
{
    Msg m = {0};
    msg_add(&m, req_head, sizeof(req_head));
    size_t at = msg_add(&m, mhae_256, sizeof(mhae_256));
    msg_fill_hmac(&m, at + 6, key_a, sizeof(key_a));
    /* Byte 0 (type) and the extension header change the parse, not the MAC. */
    for (size_t i = 1; i < m.len; i++) {
        if (i >= at && i < at + 6)
            continue;
        for (unsigned bit = 0; bit < 8; bit++) {
            Msg t = m;
            t.b[i] ^= (uint8_t)(1u << bit);
            MipRegExtensions e;
            decode_request(&t, &e);
            pt_assert_err(mip_auth_verify_mh(t.b, t.len, &e, &mn_ha_key), MIP_ERR_AUTH_MISMATCH);
        }
    }
    MipRegExtensions e;
    decode_request(&m, &e);
    const MipAuthKey wrong_key = {256, MIP_AUTH_HMAC_MD5, key_b, sizeof(key_b)};
    const MipAuthKey wrong_alg = {256, MIP_AUTH_KEYED_MD5, key_a, sizeof(key_a)};
    pt_assert_err(mip_auth_verify_mh(m.b, m.len, &e, &wrong_key), MIP_ERR_AUTH_MISMATCH);
    pt_assert_err(mip_auth_verify_mh(m.b, m.len, &e, &wrong_alg), MIP_ERR_AUTH_MISMATCH);
}

static void test_verify_refuses_reserved_and_wrong_spi(void)
{
    Msg m = {0};
    msg_add(&m, req_head, sizeof(req_head));
    size_t at = msg_add(&m, mhae_256, sizeof(mhae_256));
    m.b[at + 5] = 0xff; /* SPI 255: reserved, even with a correct authenticator */
    m.b[at + 4] = 0x00;
    msg_fill_hmac(&m, at + 6, key_a, sizeof(key_a));
    MipRegExtensions e;
    decode_request(&m, &e);
    const MipAuthKey spi255 = {255, MIP_AUTH_HMAC_MD5, key_a, sizeof(key_a)};
    pt_assert_err(mip_auth_verify_mh(m.b, m.len, &e, &spi255), MIP_ERR_SPI_RESERVED);

    Msg ok = {0};
    msg_add(&ok, req_head, sizeof(req_head));
    at = msg_add(&ok, mhae_256, sizeof(mhae_256));
    msg_fill_hmac(&ok, at + 6, key_a, sizeof(key_a));
    decode_request(&ok, &e);
    const MipAuthKey spi257 = {257, MIP_AUTH_HMAC_MD5, key_a, sizeof(key_a)};
    pt_assert_err(mip_auth_verify_mh(ok.b, ok.len, &e, &spi257), MIP_ERR_SPI_MISMATCH);
}

static void test_verify_rejects_an_authenticator_that_is_not_16_octets(void)
{
    Msg m = {0};
    msg_add(&m, req_head, sizeof(req_head));
    size_t at = msg_add(&m, mhae_256, sizeof(mhae_256) - 4);
    m.b[at + 1] = 0x10;                              /* Length: 4 + 12 */
    msg_fill_hmac(&m, at + 6, key_a, sizeof(key_a)); /* 16 octets; the last 4 dropped */
    MipRegExtensions e;
    decode_request(&m, &e);
    g_assert_cmpuint(e.mh.authenticator_len, ==, 12);
    pt_assert_err(mip_auth_verify_mh(m.b, m.len, &e, &mn_ha_key), MIP_ERR_AUTH_MISMATCH);
}

static void test_verify_refuses_a_view_of_another_message(void)
{
    Msg m = {0};
    msg_add(&m, req_head, sizeof(req_head));
    size_t at = msg_add(&m, mhae_256, sizeof(mhae_256));
    msg_fill_hmac(&m, at + 6, key_a, sizeof(key_a));
    MipRegExtensions e;
    decode_request(&m, &e);
    pt_assert_err(mip_auth_verify_mh(m.b, m.len - 1, &e, &mn_ha_key), MIP_ERR_BAD_LENGTH);
    pt_assert_err(mip_auth_verify(m.b, m.len - 1, &e.mh, &mn_ha_key), MIP_ERR_BAD_LENGTH);
    Msg other = m;
    other.b[at] = MIP_EXT_MF_AUTH;
    pt_assert_err(mip_auth_verify(other.b, other.len, &e.mh, &mn_ha_key), MIP_ERR_BAD_VALUE);
}

static void test_verify_refuses_missing_message_or_unusable_key(void)
{
    Msg m = {0};
    msg_add(&m, req_head, sizeof(req_head));
    size_t at = msg_add(&m, mhae_256, sizeof(mhae_256));
    msg_fill_hmac(&m, at + 6, key_a, sizeof(key_a));
    MipRegExtensions e;
    decode_request(&m, &e);
    const MipAuthKey no_key = {256, MIP_AUTH_HMAC_MD5, NULL, 16};
    pt_assert_err(mip_auth_verify(NULL, m.len, &e.mh, &mn_ha_key), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.mh, NULL), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_auth_verify(m.b, m.len, &e.mh, &no_key), MIP_ERR_BAD_VALUE);
}

static MipProtoError write_mhae(MipWriter *w, const void *ctx)
{
    return mip_auth_write(w, MIP_EXT_MH_AUTH, ctx);
}

static void test_auth_writer_never_overflows(void)
{
    pt_check_no_space(write_mhae, &mn_ha_key, req_head, sizeof(req_head),
                      sizeof(req_head) + sizeof(mhae_256));
}

static void test_auth_writer_refuses_reserved_spi_bad_type_and_empty_key(void)
{
    uint8_t buf[128];
    MipWriter w;
    mip_writer_init(&w, buf, sizeof(buf));
    pt_assert_err(mip_writer_put(&w, req_head, sizeof(req_head)), MIP_OK);
    const MipAuthKey spi255 = {255, MIP_AUTH_HMAC_MD5, key_a, sizeof(key_a)};
    const MipAuthKey empty = {256, MIP_AUTH_HMAC_MD5, key_a, 0};
    const MipAuthKey bad_alg = {256, (MipAuthAlgorithm)9, key_a, sizeof(key_a)};
    pt_assert_err(mip_auth_write(&w, MIP_EXT_MH_AUTH, &spi255), MIP_ERR_SPI_RESERVED);
    pt_assert_err(mip_auth_write(&w, MIP_EXT_GEN_AUTH, &mn_ha_key), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_auth_write(&w, 35, &mn_ha_key), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_auth_write(&w, MIP_EXT_MH_AUTH, &empty), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_auth_write(&w, MIP_EXT_MH_AUTH, &bad_alg), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_auth_write(&w, MIP_EXT_MH_AUTH, NULL), MIP_ERR_BAD_VALUE);
    g_assert_cmpuint(w.len, ==, sizeof(req_head));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name) g_test_add_func("/proto/auth/" #name, test_##name)
    ADD(mhae_hmac_md5_equals_independent_hmac_over_hand_written_bytes);
    ADD(mhae_keyed_md5_equals_independent_prefix_suffix_md5);
    ADD(later_authenticators_cover_earlier_extensions);
    ADD(verify_reports_a_missing_authenticator);
    ADD(verify_mh_rejects_any_non_authenticator_after_the_mhae);
    ADD(verify_detects_tampering_with_any_covered_or_authenticator_byte);
    ADD(verify_refuses_reserved_and_wrong_spi);
    ADD(verify_rejects_an_authenticator_that_is_not_16_octets);
    ADD(verify_refuses_a_view_of_another_message);
    ADD(verify_refuses_missing_message_or_unusable_key);
    ADD(auth_writer_never_overflows);
    ADD(auth_writer_refuses_reserved_spi_bad_type_and_empty_key);
#undef ADD
    return g_test_run();
}
