/* Known-answer tests for the raw authenticator algorithms: RFC 2202 HMAC-MD5
 * and RFC 2002-style keyed MD5 (prefix+suffix), checked against OpenSSL's
 * one-shot MD5() rather than the library's own EVP path. */
#define OPENSSL_SUPPRESS_DEPRECATED /* MD5() is the independent oracle here */
#include <glib.h>
#include <openssl/md5.h>
#include <string.h>

#include "client/proto/auth.h"
#include "proto_test.h"

typedef struct Rfc2202Case {
    uint8_t key[80];
    size_t key_len;
    uint8_t data[80];
    size_t data_len;
    uint8_t digest[16];
} Rfc2202Case;

static void fill(uint8_t *p, uint8_t v, size_t n)
{
    memset(p, v, n);
}

static void check_case(const Rfc2202Case *c)
{
    uint8_t out[MIP_AUTH_MD5_LEN];
    pt_assert_err(
        mip_auth_compute(MIP_AUTH_HMAC_MD5, c->key, c->key_len, c->data, c->data_len, out), MIP_OK);
    pt_assert_bytes(out, sizeof(out), c->digest, sizeof(c->digest));
}

static void test_hmac_md5_rfc2202_case1(void)
{
    Rfc2202Case c = {.key_len = 16,
                     .data = "Hi There",
                     .data_len = 8,
                     .digest = {0x92, 0x94, 0x72, 0x7a, 0x36, 0x38, 0xbb, 0x1c, 0x13, 0xf4, 0x8e,
                                0xf8, 0x15, 0x8b, 0xfc, 0x9d}};
    fill(c.key, 0x0b, 16);
    check_case(&c);
}

static void test_hmac_md5_rfc2202_case2(void)
{
    Rfc2202Case c = {.key = "Jefe",
                     .key_len = 4,
                     .data = "what do ya want for nothing?",
                     .data_len = 28,
                     .digest = {0x75, 0x0c, 0x78, 0x3e, 0x6a, 0xb0, 0xb5, 0x03, 0xea, 0xa8, 0x6e,
                                0x31, 0x0a, 0x5d, 0xb7, 0x38}};
    check_case(&c);
}

static void test_hmac_md5_rfc2202_case3(void)
{
    Rfc2202Case c = {.key_len = 16,
                     .data_len = 50,
                     .digest = {0x56, 0xbe, 0x34, 0x52, 0x1d, 0x14, 0x4c, 0x88, 0xdb, 0xb8, 0xc7,
                                0x33, 0xf0, 0xe8, 0xb3, 0xf6}};
    fill(c.key, 0xaa, 16);
    fill(c.data, 0xdd, 50);
    check_case(&c);
}

static void test_hmac_md5_rfc2202_case4(void)
{
    Rfc2202Case c = {.key_len = 25,
                     .data_len = 50,
                     .digest = {0x69, 0x7e, 0xaf, 0x0a, 0xca, 0x3a, 0x3a, 0xea, 0x3a, 0x75, 0x16,
                                0x47, 0x46, 0xff, 0xaa, 0x79}};
    for (size_t i = 0; i < 25; i++)
        c.key[i] = (uint8_t)(i + 1); /* 0x01 .. 0x19 */
    fill(c.data, 0xcd, 50);
    check_case(&c);
}

static void test_hmac_md5_rfc2202_case5(void)
{
    Rfc2202Case c = {.key_len = 16,
                     .data = "Test With Truncation",
                     .data_len = 20,
                     .digest = {0x56, 0x46, 0x1e, 0xf2, 0x34, 0x2e, 0xdc, 0x00, 0xf9, 0xba, 0xb9,
                                0x95, 0x69, 0x0e, 0xfd, 0x4c}};
    fill(c.key, 0x0c, 16);
    check_case(&c);
}

static void test_hmac_md5_rfc2202_case6(void)
{
    Rfc2202Case c = {.key_len = 80,
                     .data = "Test Using Larger Than Block-Size Key - Hash Key First",
                     .data_len = 54,
                     .digest = {0x6b, 0x1a, 0xb7, 0xfe, 0x4b, 0xd7, 0xbf, 0x8f, 0x0b, 0x62, 0xe6,
                                0xce, 0x61, 0xb9, 0xd0, 0xcd}};
    fill(c.key, 0xaa, 80);
    check_case(&c);
}

static void test_hmac_md5_rfc2202_case7(void)
{
    Rfc2202Case c = {
        .key_len = 80,
        .data = "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
        .data_len = 73,
        .digest = {0x6f, 0x63, 0x0f, 0xad, 0x67, 0xcd, 0xa0, 0xee, 0x1f, 0xb1, 0xf5, 0x62, 0xdb,
                   0x3a, 0xa5, 0x3e}};
    fill(c.key, 0xaa, 80);
    check_case(&c);
}

static void test_keyed_md5_is_md5_of_key_data_key(void)
{
    const uint8_t key[] = {0x6d, 0x69, 0x70, 0x64, 0x2d, 0x6b, 0x65, 0x79}; /* "mipd-key" */
    const uint8_t data[] = {0x01, 0x02, 0x02, 0x58, 0xc6, 0x12, 0x00, 0x32, 0x20, 0x14};
    uint8_t joined[sizeof(key) + sizeof(data) + sizeof(key)];
    memcpy(joined, key, sizeof(key));
    memcpy(joined + sizeof(key), data, sizeof(data));
    memcpy(joined + sizeof(key) + sizeof(data), key, sizeof(key));
    uint8_t want[MD5_DIGEST_LENGTH];
    MD5(joined, sizeof(joined), want);

    uint8_t out[MIP_AUTH_MD5_LEN];
    pt_assert_err(mip_auth_compute(MIP_AUTH_KEYED_MD5, key, sizeof(key), data, sizeof(data), out),
                  MIP_OK);
    pt_assert_bytes(out, sizeof(out), want, sizeof(want));
}

static void test_keyed_md5_known_answer(void)
{
    /* Anchor MD5 itself on RFC 1321 appendix A.5 (MD5("abc")), then keyed MD5
     * of key "a" and data "bc" must be MD5("abca"). */
    const uint8_t abc_digest[] = {0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0,
                                  0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72};
    uint8_t md[MD5_DIGEST_LENGTH];
    MD5((const uint8_t *)"abc", 3, md);
    pt_assert_bytes(md, sizeof(md), abc_digest, sizeof(abc_digest));

    uint8_t out[MIP_AUTH_MD5_LEN];
    pt_assert_err(mip_auth_compute(MIP_AUTH_KEYED_MD5, (const uint8_t *)"a", 1,
                                   (const uint8_t *)"bc", 2, out),
                  MIP_OK);
    MD5((const uint8_t *)"abca", 4, md);
    pt_assert_bytes(out, sizeof(out), md, sizeof(md));
}

static void test_compute_refuses_empty_key_and_bad_arguments(void)
{
    uint8_t out[MIP_AUTH_MD5_LEN];
    const uint8_t key[] = {1};
    pt_assert_err(mip_auth_compute(MIP_AUTH_HMAC_MD5, key, 0, key, 1, out), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_auth_compute(MIP_AUTH_HMAC_MD5, NULL, 1, key, 1, out), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_auth_compute(MIP_AUTH_HMAC_MD5, key, 1, NULL, 1, out), MIP_ERR_BAD_VALUE);
    pt_assert_err(mip_auth_compute((MipAuthAlgorithm)7, key, 1, key, 1, out), MIP_ERR_BAD_VALUE);
    /* Empty data is legitimate and must not touch the NULL pointer. */
    pt_assert_err(mip_auth_compute(MIP_AUTH_HMAC_MD5, key, 1, NULL, 0, out), MIP_OK);
    pt_assert_err(mip_auth_compute(MIP_AUTH_KEYED_MD5, key, 1, NULL, 0, out), MIP_OK);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/proto/hmac/md5_rfc2202_case1", test_hmac_md5_rfc2202_case1);
    g_test_add_func("/proto/hmac/md5_rfc2202_case2", test_hmac_md5_rfc2202_case2);
    g_test_add_func("/proto/hmac/md5_rfc2202_case3", test_hmac_md5_rfc2202_case3);
    g_test_add_func("/proto/hmac/md5_rfc2202_case4", test_hmac_md5_rfc2202_case4);
    g_test_add_func("/proto/hmac/md5_rfc2202_case5", test_hmac_md5_rfc2202_case5);
    g_test_add_func("/proto/hmac/md5_rfc2202_case6", test_hmac_md5_rfc2202_case6);
    g_test_add_func("/proto/hmac/md5_rfc2202_case7", test_hmac_md5_rfc2202_case7);
    g_test_add_func("/proto/keyed_md5/is_md5_of_key_data_key",
                    test_keyed_md5_is_md5_of_key_data_key);
    g_test_add_func("/proto/keyed_md5/known_answer", test_keyed_md5_known_answer);
    g_test_add_func("/proto/auth/compute_refuses_empty_key_and_bad_arguments",
                    test_compute_refuses_empty_key_and_bad_arguments);
    return g_test_run();
}
