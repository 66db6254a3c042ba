/* libFuzzer target: mip_reg_reply_decode and its extension walk, as
 * fuzz_reg_request.c does for requests, plus mip_auth_verify_mh with a fixed
 * key (what the mobile node runs on every reply it accepts). */
#include "auth.h"
#include "registration.h"

#include "fuzz-common.h"

static bool same_reply(const MipRegReply *a, const MipRegReply *b)
{
    return a->code == b->code && a->lifetime == b->lifetime &&
           a->home_address == b->home_address && a->home_agent == b->home_agent &&
           a->identification == b->identification;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MipRegReply rep, rep2, untouched;
    MipRegExtensions ext, ext_untouched, again;
    uint8_t out[MIP_REG_REPLY_LEN + 5 * 257];
    MipWriter w;
    /* Not the key the seeds are signed with: no input can verify under it. */
    static const uint8_t unknown_key[] = "a key no seed was signed with";
    const MipAuthKey key = {FUZZ_SPI, MIP_AUTH_HMAC_MD5, unknown_key, sizeof unknown_key - 1};

    memset(&rep, 0x5a, sizeof rep);
    memset(&untouched, 0x5a, sizeof untouched);
    memset(&ext, 0x5a, sizeof ext);
    memset(&ext_untouched, 0x5a, sizeof ext_untouched);
    MipProtoError err = mip_reg_reply_decode(data, size, &rep, &ext);
    FUZZ_ASSERT(mip_proto_strerror(err) != NULL);
    FUZZ_ASSERT(mip_reg_reply_decode(data, size, &rep2, NULL) == err);
    if (err != MIP_OK) {
        FUZZ_ASSERT(memcmp(&ext, &ext_untouched, sizeof ext) == 0);
        FUZZ_ASSERT(memcmp(&rep, &untouched, sizeof rep) == 0);
        return 0;
    }
    FUZZ_ASSERT(size >= MIP_REG_REPLY_LEN && data[0] == MIP_MSG_REG_REPLY);
    FUZZ_ASSERT(same_reply(&rep, &rep2));
    fuzz_check_extensions(&ext, data, size, MIP_REG_REPLY_LEN);
    FUZZ_ASSERT(mip_ext_parse(data, MIP_REG_REPLY_LEN, size, &again) == MIP_OK);
    FUZZ_ASSERT(fuzz_same_extensions(&ext, &again));

    err = mip_auth_verify_mh(data, size, &ext, &key);
    FUZZ_ASSERT(mip_proto_strerror(err) != NULL);
    FUZZ_ASSERT((err == MIP_ERR_AUTH_MISSING) == !ext.mh.present);
    /* Nothing but MFAE/FHAE/MN-AAA may follow the MHAE. */
    if (ext.mh.present && ext.mh.end == size)
        FUZZ_ASSERT(err != MIP_ERR_AUTH_NOT_LAST);
    /* Forging HMAC-MD5 is not what a fuzzer finds: a pass means a broken verifier. */
    FUZZ_ASSERT(err != MIP_OK);

    mip_writer_init(&w, out, sizeof out);
    FUZZ_ASSERT(mip_reg_reply_write(&w, &rep) == MIP_OK && w.len == MIP_REG_REPLY_LEN);
    FUZZ_ASSERT(memcmp(out, data, MIP_REG_REPLY_LEN) == 0);
    FUZZ_ASSERT(fuzz_rewrite_values(&w, &ext) == MIP_OK);
    FUZZ_ASSERT(mip_reg_reply_decode(out, w.len, &rep2, &again) == MIP_OK);
    FUZZ_ASSERT(same_reply(&rep, &rep2));
    FUZZ_ASSERT(fuzz_same_values(&ext, &again));
    return 0;
}
