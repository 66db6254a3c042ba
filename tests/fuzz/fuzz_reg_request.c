/* libFuzzer target: mip_reg_request_decode and its extension walk. Checks the
 * walk's invariants, that ext == NULL gives the same verdict, that a rejected
 * input changes nothing, that the fixed part re-encodes byte for byte and the
 * non-authentication extensions re-encode to the same values. */
#include "auth.h"
#include "registration.h"

#include "fuzz-common.h"

static bool same_request(const MipRegRequest *a, const MipRegRequest *b)
{
    return a->flags == b->flags && a->lifetime == b->lifetime &&
           a->home_address == b->home_address && a->home_agent == b->home_agent &&
           a->care_of_address == b->care_of_address && a->identification == b->identification;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MipRegRequest req, req2, untouched;
    MipRegExtensions ext, ext_untouched, again;
    uint8_t out[MIP_REG_REQUEST_LEN + 5 * 257];
    MipWriter w;
    const MipAuthKey key = {FUZZ_SPI, MIP_AUTH_HMAC_MD5, FUZZ_KEY, sizeof FUZZ_KEY};

    memset(&req, 0x5a, sizeof req);
    memset(&untouched, 0x5a, sizeof untouched);
    memset(&ext, 0x5a, sizeof ext);
    memset(&ext_untouched, 0x5a, sizeof ext_untouched);
    MipProtoError err = mip_reg_request_decode(data, size, &req, &ext);
    FUZZ_ASSERT(mip_proto_strerror(err) != NULL);
    /* Without ext the extensions are still validated: same verdict. */
    FUZZ_ASSERT(mip_reg_request_decode(data, size, &req2, NULL) == err);
    if (err != MIP_OK) {
        FUZZ_ASSERT(memcmp(&ext, &ext_untouched, sizeof ext) == 0);
        FUZZ_ASSERT(memcmp(&req, &untouched, sizeof req) == 0);
        return 0;
    }
    FUZZ_ASSERT(size >= MIP_REG_REQUEST_LEN && data[0] == MIP_MSG_REG_REQUEST);
    FUZZ_ASSERT(same_request(&req, &req2));
    fuzz_check_extensions(&ext, data, size, MIP_REG_REQUEST_LEN);
    FUZZ_ASSERT(mip_ext_parse(data, MIP_REG_REQUEST_LEN, size, &again) == MIP_OK);
    FUZZ_ASSERT(fuzz_same_extensions(&ext, &again));
    err = mip_auth_verify_mh(data, size, &ext, &key);
    FUZZ_ASSERT((err == MIP_ERR_AUTH_MISSING) == !ext.mh.present);

    mip_writer_init(&w, out, sizeof out);
    FUZZ_ASSERT(mip_reg_request_write(&w, &req) == MIP_OK && w.len == MIP_REG_REQUEST_LEN);
    FUZZ_ASSERT(memcmp(out, data, MIP_REG_REQUEST_LEN) == 0);
    FUZZ_ASSERT(fuzz_rewrite_values(&w, &ext) == MIP_OK);
    FUZZ_ASSERT(mip_reg_request_decode(out, w.len, &req2, &again) == MIP_OK);
    FUZZ_ASSERT(same_request(&req, &req2));
    FUZZ_ASSERT(fuzz_same_values(&ext, &again));
    return 0;
}
