/* Agent Advertisement (ICMP 9 plus mobility extensions) and Agent Solicitation
 * (ICMP 10): bounds-checked decoding straight from the buffer, and encoding
 * for tests, fuzz seeds and benchmarks. */
#include "advert.h"

#include <string.h>

#include "bytes.h"
#include "checksum.h"

enum {
    ICMP_HDR_LEN = 8,
    ROUTER_ENTRY_WORDS = 2, /* address and preference, RFC 1256 */
    MOBILITY_FIXED_LEN = 6, /* sequence, registration lifetime, flags */
    EXT_MAX_DATA = 255,
    MAX_COA = (EXT_MAX_DATA - MOBILITY_FIXED_LEN) / 4,
    MAX_PREFIX_LEN = 32,
    SOLICIT_LEN = 8,
};

static bool advert_code_allowed(uint8_t code)
{
    return code == 0 || code == MIP_ICMP_ADVERT_CODE_MOBILITY_ONLY;
}

static MipProtoError parse_mobility(const uint8_t *data, size_t len, MipAgentAdvert *adv)
{
    if (adv->has_mobility)
        return MIP_ERR_DUPLICATE_EXTENSION;
    /* Length = 6 + 4 * N care-of addresses (RFC 5944 §2.1.1). */
    if (len < MOBILITY_FIXED_LEN || (len - MOBILITY_FIXED_LEN) % 4 != 0)
        return MIP_ERR_BAD_LENGTH;
    adv->has_mobility = true;
    adv->sequence = mip_load_be16(data);
    adv->reg_lifetime = mip_load_be16(data + 2);
    adv->flags = mip_load_be16(data + 4);
    adv->n_coa = (len - MOBILITY_FIXED_LEN) / 4;
    adv->coa_list = data + MOBILITY_FIXED_LEN;
    /* A foreign agent must advertise at least one care-of address. */
    if ((adv->flags & MIP_ADV_F) && adv->n_coa == 0)
        return MIP_ERR_BAD_VALUE;
    return MIP_OK;
}

static MipProtoError parse_prefix_lengths(const uint8_t *data, size_t len, MipAgentAdvert *adv)
{
    if (adv->has_prefix_lengths)
        return MIP_ERR_DUPLICATE_EXTENSION;
    /* RFC 5944 §2.1.2: it may only follow the mobility extension, and has one
     * octet per router address. */
    if (!adv->has_mobility)
        return MIP_ERR_EXTENSION_ORDER;
    if (len != adv->num_addrs)
        return MIP_ERR_BAD_LENGTH;
    for (size_t i = 0; i < len; i++)
        if (data[i] > MAX_PREFIX_LEN)
            return MIP_ERR_BAD_VALUE;
    adv->has_prefix_lengths = true;
    adv->n_prefix_lengths = len;
    adv->prefix_lengths = data;
    return MIP_OK;
}

static MipProtoError parse_challenge(const uint8_t *data, size_t len, MipAgentAdvert *adv)
{
    if (adv->challenge != NULL)
        return MIP_ERR_DUPLICATE_EXTENSION;
    /* An empty challenge cannot be answered (RFC 3012 §2 wants >= 4 octets,
     * as a SHOULD, so shorter non-empty ones are accepted). */
    if (len == 0)
        return MIP_ERR_BAD_LENGTH;
    adv->challenge = data;
    adv->challenge_len = len;
    return MIP_OK;
}

static MipProtoError parse_extensions(const uint8_t *buf, size_t off, size_t len,
                                      MipAgentAdvert *adv)
{
    while (off < len) {
        uint8_t type = buf[off];
        if (type == MIP_ADV_EXT_PAD) {
            off++; /* the only one-octet extension: no length field */
            continue;
        }
        bool known = type == MIP_ADV_EXT_MOBILITY || type == MIP_ADV_EXT_PREFIX_LENGTHS ||
                     type == MIP_ADV_EXT_CHALLENGE;
        /* RFC 5944 §1.9: an unknown type below 128 makes the whole message
         * undecodable, so there is no point reading its length. */
        if (!known && type < 128)
            return MIP_ERR_UNKNOWN_EXTENSION;
        if (len - off < 2)
            return MIP_ERR_TRUNCATED;
        size_t ext_len = buf[off + 1];
        if (ext_len > len - off - 2)
            return MIP_ERR_TRUNCATED;
        const uint8_t *data = buf + off + 2;
        MipProtoError err = MIP_OK;
        switch (type) {
        case MIP_ADV_EXT_MOBILITY:
            err = parse_mobility(data, ext_len, adv);
            break;
        case MIP_ADV_EXT_PREFIX_LENGTHS:
            err = parse_prefix_lengths(data, ext_len, adv);
            break;
        case MIP_ADV_EXT_CHALLENGE:
            err = parse_challenge(data, ext_len, adv);
            break;
        default:
            adv->skipped_extensions++;
            break;
        }
        if (err != MIP_OK)
            return err;
        off += 2 + ext_len;
    }
    return MIP_OK;
}

MipProtoError mip_advert_decode(const uint8_t *buf, size_t len, MipAgentAdvert *out)
{
    if (out == NULL || (buf == NULL && len > 0))
        return MIP_ERR_BAD_VALUE;
    if (len < 1)
        return MIP_ERR_TRUNCATED;
    if (buf[0] != MIP_ICMP_ROUTER_ADVERT)
        return MIP_ERR_BAD_TYPE;
    if (len < 2)
        return MIP_ERR_TRUNCATED;
    if (!advert_code_allowed(buf[1]))
        return MIP_ERR_BAD_CODE;
    if (len < ICMP_HDR_LEN)
        return MIP_ERR_TRUNCATED;

    /* Decode into a local so that a rejected message leaves *out untouched. */
    MipAgentAdvert adv;
    memset(&adv, 0, sizeof(adv));
    adv.code = buf[1];
    adv.num_addrs = buf[4];
    adv.addr_entry_size = buf[5];
    adv.lifetime = mip_load_be16(buf + 6);
    if (adv.addr_entry_size < ROUTER_ENTRY_WORDS)
        return MIP_ERR_BAD_LENGTH;
    size_t routers_len = (size_t)adv.num_addrs * adv.addr_entry_size * 4;
    if (routers_len > len - ICMP_HDR_LEN)
        return MIP_ERR_TRUNCATED;
    adv.router_entries = buf + ICMP_HDR_LEN;

    MipProtoError err = parse_extensions(buf, ICMP_HDR_LEN + routers_len, len, &adv);
    if (err != MIP_OK)
        return err;
    /* Checked last so that structure errors are reported precisely even when
     * a truncation also broke the checksum. */
    if (mip_inet_checksum(buf, len) != 0)
        return MIP_ERR_BAD_CHECKSUM;
    *out = adv;
    return MIP_OK;
}

MipRouterEntry mip_advert_router(const MipAgentAdvert *adv, size_t i)
{
    MipRouterEntry entry = {0, 0};
    if (adv == NULL || adv->router_entries == NULL || i >= adv->num_addrs)
        return entry;
    const uint8_t *p = adv->router_entries + i * adv->addr_entry_size * 4;
    entry.address = mip_load_be32(p);
    /* Two's-complement preference without an implementation-defined cast. */
    uint32_t pref = mip_load_be32(p + 4);
    entry.preference = pref <= INT32_MAX ? (int32_t)pref : -(int32_t)(~pref) - 1;
    return entry;
}

uint32_t mip_advert_coa(const MipAgentAdvert *adv, size_t i)
{
    if (adv == NULL || adv->coa_list == NULL || i >= adv->n_coa)
        return 0;
    return mip_load_be32(adv->coa_list + i * 4);
}

static MipProtoError advert_spec_check(const MipAgentAdvertSpec *spec)
{
    if (!advert_code_allowed(spec->code))
        return MIP_ERR_BAD_CODE;
    if (spec->n_routers > 255 || (spec->n_routers > 0 && spec->routers == NULL))
        return MIP_ERR_BAD_VALUE;
    if (spec->mobility) {
        if (spec->n_coa > MAX_COA)
            return MIP_ERR_BAD_LENGTH;
        if (spec->n_coa > 0 && spec->coas == NULL)
            return MIP_ERR_BAD_VALUE;
        if ((spec->flags & MIP_ADV_F) && spec->n_coa == 0)
            return MIP_ERR_BAD_VALUE;
    }
    if (spec->prefix_lengths != NULL) {
        if (!spec->mobility)
            return MIP_ERR_EXTENSION_ORDER;
        if (spec->n_prefix_lengths != spec->n_routers)
            return MIP_ERR_BAD_LENGTH;
        for (size_t i = 0; i < spec->n_prefix_lengths; i++)
            if (spec->prefix_lengths[i] > MAX_PREFIX_LEN)
                return MIP_ERR_BAD_VALUE;
    }
    if (spec->challenge != NULL && (spec->challenge_len == 0 || spec->challenge_len > EXT_MAX_DATA))
        return MIP_ERR_BAD_LENGTH;
    return MIP_OK;
}

MipProtoError mip_advert_encode(MipWriter *w, const MipAgentAdvertSpec *spec)
{
    if (w == NULL || spec == NULL)
        return MIP_ERR_BAD_VALUE;
    MipProtoError err = advert_spec_check(spec);
    if (err != MIP_OK)
        return err;

    size_t total = ICMP_HDR_LEN + spec->n_routers * ROUTER_ENTRY_WORDS * 4;
    if (spec->mobility)
        total += 2 + MOBILITY_FIXED_LEN + spec->n_coa * 4;
    if (spec->prefix_lengths != NULL)
        total += 2 + spec->n_prefix_lengths;
    if (spec->challenge != NULL)
        total += 2 + spec->challenge_len;
    if (spec->pad > SIZE_MAX - total)
        return MIP_ERR_NO_SPACE;
    total += spec->pad;

    uint8_t *msg = mip_writer_reserve(w, total);
    if (msg == NULL)
        return MIP_ERR_NO_SPACE;
    uint8_t *p = msg;
    p[0] = MIP_ICMP_ROUTER_ADVERT;
    p[1] = spec->code;
    mip_store_be16(p + 2, 0);
    p[4] = (uint8_t)spec->n_routers;
    p[5] = ROUTER_ENTRY_WORDS;
    mip_store_be16(p + 6, spec->lifetime);
    p += ICMP_HDR_LEN;
    for (size_t i = 0; i < spec->n_routers; i++, p += 8) {
        mip_store_be32(p, spec->routers[i].address);
        mip_store_be32(p + 4, (uint32_t)spec->routers[i].preference);
    }
    if (spec->mobility) {
        p[0] = MIP_ADV_EXT_MOBILITY;
        p[1] = (uint8_t)(MOBILITY_FIXED_LEN + spec->n_coa * 4);
        mip_store_be16(p + 2, spec->sequence);
        mip_store_be16(p + 4, spec->reg_lifetime);
        mip_store_be16(p + 6, spec->flags);
        p += 2 + MOBILITY_FIXED_LEN;
        for (size_t i = 0; i < spec->n_coa; i++, p += 4)
            mip_store_be32(p, spec->coas[i]);
    }
    if (spec->prefix_lengths != NULL) {
        p[0] = MIP_ADV_EXT_PREFIX_LENGTHS;
        p[1] = (uint8_t)spec->n_prefix_lengths;
        if (spec->n_prefix_lengths > 0)
            memcpy(p + 2, spec->prefix_lengths, spec->n_prefix_lengths);
        p += 2 + spec->n_prefix_lengths;
    }
    if (spec->challenge != NULL) {
        p[0] = MIP_ADV_EXT_CHALLENGE;
        p[1] = (uint8_t)spec->challenge_len;
        memcpy(p + 2, spec->challenge, spec->challenge_len);
        p += 2 + spec->challenge_len;
    }
    if (spec->pad > 0)
        memset(p, MIP_ADV_EXT_PAD, spec->pad);
    mip_store_be16(msg + 2, mip_inet_checksum(msg, total));
    return MIP_OK;
}

MipProtoError mip_solicit_encode(MipWriter *w)
{
    uint8_t *p = mip_writer_reserve(w, SOLICIT_LEN);
    if (p == NULL)
        return MIP_ERR_NO_SPACE;
    memset(p, 0, SOLICIT_LEN);
    p[0] = MIP_ICMP_ROUTER_SOLICIT;
    mip_store_be16(p + 2, mip_inet_checksum(p, SOLICIT_LEN));
    return MIP_OK;
}

MipProtoError mip_solicit_decode(const uint8_t *buf, size_t len)
{
    if (buf == NULL && len > 0)
        return MIP_ERR_BAD_VALUE;
    if (len < 1)
        return MIP_ERR_TRUNCATED;
    if (buf[0] != MIP_ICMP_ROUTER_SOLICIT)
        return MIP_ERR_BAD_TYPE;
    if (len < 2)
        return MIP_ERR_TRUNCATED;
    if (buf[1] != 0)
        return MIP_ERR_BAD_CODE;
    /* RFC 1256: 8 or more octets; anything past the reserved word is ignored
     * but still covered by the checksum. */
    if (len < SOLICIT_LEN)
        return MIP_ERR_TRUNCATED;
    if (mip_inet_checksum(buf, len) != 0)
        return MIP_ERR_BAD_CHECKSUM;
    return MIP_OK;
}
