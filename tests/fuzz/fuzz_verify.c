/* libFuzzer target: verify after decode. The first byte picks request or
 * reply and the algorithm; the rest is the message. Every authentication
 * extension found is verified with a fixed key, then re-signed in place with
 * the library's own writer: the result must decode, verify, and stop
 * verifying when one fixed-part bit, the key or the SPI changes. */
#include "auth.h"
#include "registration.h"

#include "fuzz-common.h"

enum { MAX_MSG = 4096 };

static MipProtoError decode(bool reply, const uint8_t *m, size_t n, MipRegExtensions *ext)
{
    MipRegRequest req;
    MipRegReply rep;
    return reply ? mip_reg_reply_decode(m, n, &rep, ext) : mip_reg_request_decode(m, n, &req, ext);
}

static const MipAuthExtView *view_of(const MipRegExtensions *e, uint8_t type)
{
    switch (type) {
    case MIP_EXT_MH_AUTH: return &e->mh;
    case MIP_EXT_MF_AUTH: return &e->mf;
    case MIP_EXT_FH_AUTH: return &e->fh;
    default: return &e->mn_aaa;
    }
}

static void resign(bool reply, const uint8_t *msg, size_t len, const MipRegExtensions *ext,
                   const MipAuthExtView *v, MipAuthAlgorithm alg)
{
    static uint8_t buf[MAX_MSG + 64];
    uint8_t other_key[sizeof FUZZ_KEY];
    MipWriter w;
    MipRegExtensions e2;
    bool mn_aaa = v->type == MIP_EXT_GEN_AUTH;
    uint32_t spi = v->spi >= MIP_SPI_MIN || (mn_aaa && v->spi == MIP_SPI_CHAP) ? v->spi : MIP_SPI_MIN;
    MipAuthKey key = {spi, alg, FUZZ_KEY, sizeof FUZZ_KEY};
    size_t fixed = reply ? MIP_REG_REPLY_LEN : MIP_REG_REQUEST_LEN;

    /* MN-AAA answers a challenge that precedes it (RFC 3012 §3.1). */
    if (mn_aaa && (ext->challenge == NULL || (size_t)(ext->challenge - msg) >= v->offset))
        return;
    mip_writer_init(&w, buf, sizeof buf);
    FUZZ_ASSERT(mip_writer_put(&w, msg, v->offset) == MIP_OK);
    if (mn_aaa)
        FUZZ_ASSERT(mip_auth_write_mn_aaa(&w, &key, ext->challenge, ext->challenge_len) == MIP_OK);
    else
        FUZZ_ASSERT(mip_auth_write(&w, v->type, &key) == MIP_OK);
    size_t signed_end = w.len;
    FUZZ_ASSERT(mip_writer_put(&w, msg + v->end, len - v->end) == MIP_OK);

    FUZZ_ASSERT(decode(reply, buf, w.len, &e2) == MIP_OK);
    const MipAuthExtView *v2 = view_of(&e2, v->type);
    FUZZ_ASSERT(v2->present && v2->offset == v->offset && v2->end == signed_end);
    FUZZ_ASSERT(v2->authenticator_len == MIP_AUTH_MD5_LEN && v2->spi == spi);
    FUZZ_ASSERT(mip_auth_verify(buf, w.len, v2, &key) == MIP_OK);
    if (v->type == MIP_EXT_MH_AUTH && v2->end == w.len)
        FUZZ_ASSERT(mip_auth_verify_mh(buf, w.len, &e2, &key) == MIP_OK);

    /* Wrong key, wrong SPI. */
    memcpy(other_key, FUZZ_KEY, sizeof other_key);
    other_key[msg[0] % sizeof other_key] ^= 0x01;
    MipAuthKey bad = key;
    bad.key = other_key;
    FUZZ_ASSERT(mip_auth_verify(buf, w.len, v2, &bad) == MIP_ERR_AUTH_MISMATCH);
    bad = key;
    bad.spi = spi + 1;
    FUZZ_ASSERT(mip_auth_verify(buf, w.len, v2, &bad) == MIP_ERR_SPI_MISMATCH);

    /* One flipped bit in the fixed part (never the type): still decodes, no longer verifies. */
    size_t pos = 1 + (len > 1 ? msg[1] : 0) % (fixed - 1);
    buf[pos] ^= (uint8_t)(1u << (msg[len - 1] & 7));
    FUZZ_ASSERT(decode(reply, buf, w.len, &e2) == MIP_OK);
    FUZZ_ASSERT(mip_auth_verify(buf, w.len, view_of(&e2, v->type), &key) == MIP_ERR_AUTH_MISMATCH);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MipRegExtensions ext;

    if (size < 1 || size - 1 > MAX_MSG)
        return 0;
    bool reply = data[0] & 1;
    MipAuthAlgorithm alg = data[0] & 2 ? MIP_AUTH_KEYED_MD5 : MIP_AUTH_HMAC_MD5;
    const uint8_t *msg = data + 1;
    size_t len = size - 1;

    if (decode(reply, msg, len, &ext) != MIP_OK)
        return 0;
    const MipAuthExtView *views[] = {&ext.mh, &ext.mf, &ext.fh, &ext.mn_aaa};
    for (int i = 0; i < 4; i++) {
        const MipAuthExtView *v = views[i];
        if (!v->present)
            continue;
        MipAuthKey key = {v->spi, alg, FUZZ_KEY, sizeof FUZZ_KEY};
        MipProtoError err = mip_auth_verify(msg, len, v, &key);
        FUZZ_ASSERT(mip_proto_strerror(err) != NULL);
        if (v->authenticator_len != MIP_AUTH_MD5_LEN)
            FUZZ_ASSERT(err != MIP_OK);
        resign(reply, msg, len, &ext, v, alg);
    }
    MipAuthKey key = {ext.mh.spi, alg, FUZZ_KEY, sizeof FUZZ_KEY};
    FUZZ_ASSERT(mip_proto_strerror(mip_auth_verify_mh(msg, len, &ext, &key)) != NULL);
    return 0;
}
