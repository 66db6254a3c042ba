/* libFuzzer target: mip_advert_decode. Checks every pointer and count it
 * reports against the input, and that re-encoding the decoded values with
 * mip_advert_encode decodes to the same values. */
#include "advert.h"
#include "checksum.h"

#include "fuzz-common.h"

static void check_roundtrip(const MipAgentAdvert *a)
{
    MipRouterEntry routers[255];
    uint32_t coas[64];
    uint8_t out[8 + 255 * 8 + 3 * 257];
    MipWriter w;
    MipAgentAdvert b;

    for (size_t i = 0; i < a->num_addrs; i++)
        routers[i] = mip_advert_router(a, i);
    for (size_t i = 0; i < a->n_coa; i++)
        coas[i] = mip_advert_coa(a, i);
    MipAgentAdvertSpec spec = {
        .code = a->code, .lifetime = a->lifetime, .routers = routers, .n_routers = a->num_addrs,
        .mobility = a->has_mobility, .sequence = a->sequence, .reg_lifetime = a->reg_lifetime,
        .flags = a->flags, .coas = coas, .n_coa = a->n_coa,
        .prefix_lengths = a->has_prefix_lengths ? a->prefix_lengths : NULL,
        .n_prefix_lengths = a->n_prefix_lengths,
        .challenge = a->challenge, .challenge_len = a->challenge_len,
    };
    mip_writer_init(&w, out, sizeof out);
    /* Whatever the decoder accepts, the encoder must be able to say. */
    FUZZ_ASSERT(mip_advert_encode(&w, &spec) == MIP_OK);
    FUZZ_ASSERT(mip_advert_decode(out, w.len, &b) == MIP_OK);
    FUZZ_ASSERT(b.code == a->code && b.lifetime == a->lifetime && b.num_addrs == a->num_addrs);
    for (size_t i = 0; i < a->num_addrs; i++) {
        MipRouterEntry r = mip_advert_router(&b, i);
        FUZZ_ASSERT(r.address == routers[i].address && r.preference == routers[i].preference);
    }
    FUZZ_ASSERT(b.has_mobility == a->has_mobility && b.sequence == a->sequence);
    FUZZ_ASSERT(b.reg_lifetime == a->reg_lifetime && b.flags == a->flags && b.n_coa == a->n_coa);
    for (size_t i = 0; i < a->n_coa; i++)
        FUZZ_ASSERT(mip_advert_coa(&b, i) == coas[i]);
    FUZZ_ASSERT(b.has_prefix_lengths == a->has_prefix_lengths);
    FUZZ_ASSERT(b.n_prefix_lengths == a->n_prefix_lengths);
    if (a->has_prefix_lengths)
        FUZZ_ASSERT(memcmp(b.prefix_lengths, a->prefix_lengths, a->n_prefix_lengths) == 0);
    FUZZ_ASSERT((b.challenge == NULL) == (a->challenge == NULL));
    FUZZ_ASSERT(b.challenge_len == a->challenge_len);
    if (a->challenge)
        FUZZ_ASSERT(memcmp(b.challenge, a->challenge, a->challenge_len) == 0);
    FUZZ_ASSERT(b.skipped_extensions == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MipAgentAdvert adv, before;

    memset(&adv, 0xa5, sizeof adv);
    before = adv;
    MipProtoError err = mip_advert_decode(data, size, &adv);
    FUZZ_ASSERT(mip_proto_strerror(err) != NULL);
    if (err != MIP_OK) {
        /* Bad input changes nothing (DESIGN.md). */
        FUZZ_ASSERT(memcmp(&adv, &before, sizeof adv) == 0);
        return 0;
    }
    FUZZ_ASSERT(size >= 8 && data[0] == MIP_ICMP_ROUTER_ADVERT);
    FUZZ_ASSERT(adv.code == data[1] && (adv.code == 0 || adv.code == MIP_ICMP_ADVERT_CODE_MOBILITY_ONLY));
    FUZZ_ASSERT(mip_inet_checksum(data, size) == 0);
    FUZZ_ASSERT(adv.num_addrs == data[4] && adv.addr_entry_size == data[5]);
    FUZZ_ASSERT(adv.addr_entry_size >= 2 && adv.lifetime == mip_load_be16(data + 6));
    size_t entry = (size_t)adv.addr_entry_size * 4;
    if (adv.num_addrs) {
        FUZZ_ASSERT(adv.router_entries == data + 8);
        FUZZ_ASSERT(fuzz_inside(adv.router_entries, adv.num_addrs * entry, data, size));
    }
    for (size_t i = 0; i < adv.num_addrs; i++) {
        MipRouterEntry r = mip_advert_router(&adv, i);
        FUZZ_ASSERT(r.address == mip_load_be32(data + 8 + i * entry));
        FUZZ_ASSERT((uint32_t)r.preference == mip_load_be32(data + 12 + i * entry));
    }
    FUZZ_ASSERT(mip_advert_router(&adv, adv.num_addrs).address == 0);
    if (adv.has_mobility) {
        FUZZ_ASSERT(adv.n_coa <= (255 - 6) / 4);
        if (adv.n_coa)
            FUZZ_ASSERT(fuzz_inside(adv.coa_list, adv.n_coa * 4, data, size));
        FUZZ_ASSERT(!(adv.flags & MIP_ADV_F) || adv.n_coa > 0);
        for (size_t i = 0; i < adv.n_coa; i++)
            FUZZ_ASSERT(mip_advert_coa(&adv, i) == mip_load_be32(adv.coa_list + 4 * i));
    } else {
        FUZZ_ASSERT(adv.n_coa == 0 && !adv.has_prefix_lengths);
    }
    FUZZ_ASSERT(mip_advert_coa(&adv, adv.n_coa) == 0);
    if (adv.has_prefix_lengths) {
        FUZZ_ASSERT(adv.n_prefix_lengths == adv.num_addrs);
        if (adv.n_prefix_lengths)
            FUZZ_ASSERT(fuzz_inside(adv.prefix_lengths, adv.n_prefix_lengths, data, size));
        for (size_t i = 0; i < adv.n_prefix_lengths; i++)
            FUZZ_ASSERT(adv.prefix_lengths[i] <= 32);
    }
    if (adv.challenge)
        FUZZ_ASSERT(adv.challenge_len > 0 && fuzz_inside(adv.challenge, adv.challenge_len, data, size));
    else
        FUZZ_ASSERT(adv.challenge_len == 0);
    check_roundtrip(&adv);
    return 0;
}
