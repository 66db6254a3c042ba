/* Registration Identification (RFC 5944 §5.7): 64-bit NTP-format timestamps
 * whose low-order bits the clock cannot supply are random, nonces, and the
 * resynchronisation after a code-133 denial. Clock and randomness come from
 * the caller. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
#define MIP_NTP_UNIX_OFFSET 2208988800u

/* A timestamp Identification for wall-clock time unix_usec (microseconds since
 * 1970) plus offset_sec (from a resync). Microseconds fill the top 20 bits of
 * the fraction; the low 12 bits come from rnd. */
uint64_t mip_ident_timestamp(uint64_t unix_usec, int64_t offset_sec, uint32_t rnd);

/* A nonce Identification: high 32 bits the home agent's last nonce (0 at
 * first), low 32 bits ours. */
uint64_t mip_ident_nonce(uint32_t ha_nonce, uint32_t mn_nonce);

/* RFC 5944 §5.7: a reply belongs to a request iff the low-order 32 bits match. */
bool mip_ident_reply_matches(uint64_t request_ident, uint64_t reply_ident);

/* After a 133 denial: the offset (seconds) that makes our timestamps follow the
 * home agent's clock, given the reply's Identification (its high 32 bits are
 * the home agent's time) and the request that was denied. */
int64_t mip_ident_resync_offset(uint64_t request_ident, uint64_t reply_ident,
                                int64_t old_offset_sec);
