/* Registration Identification (RFC 5944 §5.7): NTP-format timestamps with
 * random low bits, nonces, reply matching and clock resynchronisation. */
#include "ident.h"

enum {
    USEC_PER_SEC = 1000000,
    FRACTION_CLOCK_BITS = 20, /* 2^20 > 10^6: one step per microsecond */
    FRACTION_RANDOM_BITS = 12,
};

uint64_t mip_ident_timestamp(uint64_t unix_usec, int64_t offset_sec, uint32_t rnd)
{
    uint64_t sec = unix_usec / USEC_PER_SEC;
    uint64_t usec = unix_usec % USEC_PER_SEC;
    /* Unsigned sums wrap modulo 2^64 and the cast keeps them modulo 2^32,
     * which is what NTP seconds are: the 2036 era rollover needs no case. */
    uint32_t ntp_sec = (uint32_t)(sec + MIP_NTP_UNIX_OFFSET + (uint64_t)offset_sec);
    /* The fraction's top 20 bits are floor(usec * 2^20 / 10^6), strictly
     * increasing with usec; the bits no clock supplies are random (§5.7.1). */
    uint32_t clock_bits = (uint32_t)((usec << FRACTION_CLOCK_BITS) / USEC_PER_SEC);
    uint32_t random_bits = rnd & ((1u << FRACTION_RANDOM_BITS) - 1);
    uint32_t fraction = clock_bits << FRACTION_RANDOM_BITS | random_bits;
    return (uint64_t)ntp_sec << 32 | fraction;
}

uint64_t mip_ident_nonce(uint32_t ha_nonce, uint32_t mn_nonce)
{
    return (uint64_t)ha_nonce << 32 | mn_nonce;
}

bool mip_ident_reply_matches(uint64_t request_ident, uint64_t reply_ident)
{
    return (uint32_t)request_ident == (uint32_t)reply_ident;
}

int64_t mip_ident_resync_offset(uint64_t request_ident, uint64_t reply_ident,
                                int64_t old_offset_sec)
{
    /* The denied request's seconds were our clock plus old_offset; the reply
     * carries the home agent's seconds. Their difference, read as a signed
     * 32-bit step so that it stays right across an NTP era rollover, moves
     * the offset onto the home agent's clock. */
    uint32_t ours = (uint32_t)(request_ident >> 32);
    uint32_t theirs = (uint32_t)(reply_ident >> 32);
    uint32_t diff = theirs - ours;
    int64_t step = diff < 0x80000000u ? (int64_t)diff : (int64_t)diff - ((int64_t)1 << 32);
    if (step > 0 && old_offset_sec > INT64_MAX - step)
        return INT64_MAX;
    if (step < 0 && old_offset_sec < INT64_MIN - step)
        return INT64_MIN;
    return old_offset_sec + step;
}
