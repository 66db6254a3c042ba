/* Shared by the libFuzzer targets: an assert that survives NDEBUG, the
 * "pointer lies inside the input" test, and the invariants every decoded
 * MipRegExtensions must satisfy whatever the input was. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "extensions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() so libFuzzer records a crash and saves the input. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* p[0..n) lies within buf[0..len). Compared as integers: the pointers may be
 * garbage when the invariant is broken, which is what we are looking for. */
static inline bool fuzz_inside(const void *p, size_t n, const uint8_t *buf, size_t len)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)buf;
    return p != NULL && a >= b && n <= len && a - b <= len - n;
}

/* A fixed security association for verify-after-decode. */
static const uint8_t FUZZ_KEY[16] = {0x6d, 0x69, 0x70, 0x64, 0x2d, 0x66, 0x75, 0x7a,
                                     0x7a, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30, 0x31};
enum { FUZZ_SPI = 0x1234 };

static inline void fuzz_check_view(const MipAuthExtView *v, uint8_t type, const uint8_t *buf,
                                   size_t len, size_t start)
{
    if (!v->present) {
        FUZZ_ASSERT(v->authenticator == NULL && v->authenticator_len == 0);
        return;
    }
    size_t hdr = type == MIP_EXT_GEN_AUTH ? 8 : 6;   /* header + SPI */
    FUZZ_ASSERT(v->type == type);
    FUZZ_ASSERT(v->offset >= start && v->offset < len);
    FUZZ_ASSERT(buf[v->offset] == type);
    FUZZ_ASSERT(v->covered_len == v->offset + hdr);
    FUZZ_ASSERT(v->end == v->covered_len + v->authenticator_len && v->end <= len);
    FUZZ_ASSERT(v->authenticator == buf + v->covered_len);
    if (v->authenticator_len > 0)
        FUZZ_ASSERT(fuzz_inside(v->authenticator, v->authenticator_len, buf, len));
    FUZZ_ASSERT(v->spi == mip_load_be32(buf + v->covered_len - 4));
    if (type == MIP_EXT_GEN_AUTH) {
        FUZZ_ASSERT(v->subtype == MIP_GEN_AUTH_SUBTYPE_MN_AAA && buf[v->offset + 1] == v->subtype);
        FUZZ_ASSERT(mip_load_be16(buf + v->offset + 2) == v->end - v->offset - 4);
    } else {
        FUZZ_ASSERT(buf[v->offset + 1] == v->end - v->offset - 2);
    }
}

static inline bool fuzz_overlap(size_t a0, size_t a1, size_t b0, size_t b1)
{
    return a0 < b1 && b0 < a1;
}

/* Everything a successful walk of buf[start..len) reports must point into the
 * input, agree with the bytes there, and not overlap anything else reported. */
static inline void fuzz_check_extensions(const MipRegExtensions *e, const uint8_t *buf, size_t len,
                                         size_t start)
{
    const MipAuthExtView *views[] = {&e->mh, &e->mf, &e->fh, &e->mn_aaa};
    const uint8_t types[] = {MIP_EXT_MH_AUTH, MIP_EXT_MF_AUTH, MIP_EXT_FH_AUTH, MIP_EXT_GEN_AUTH};
    size_t span[6][2];
    unsigned n_span = 0, present = 0;

    FUZZ_ASSERT(e->total_len == len);
    FUZZ_ASSERT(e->skipped <= e->count);
    for (int i = 0; i < 4; i++) {
        fuzz_check_view(views[i], types[i], buf, len, start);
        if (views[i]->present) {
            span[n_span][0] = views[i]->offset;
            span[n_span++][1] = views[i]->end;
            present++;
        }
    }
    if (e->nai) {
        FUZZ_ASSERT(e->nai_len > 0 && fuzz_inside(e->nai, e->nai_len, buf, len));
        FUZZ_ASSERT((size_t)(e->nai - buf) >= start + 2 && e->nai[-2] == MIP_EXT_NAI);
        FUZZ_ASSERT(e->nai[-1] == e->nai_len);
        span[n_span][0] = (size_t)(e->nai - buf) - 2;
        span[n_span++][1] = (size_t)(e->nai - buf) + e->nai_len;
        present++;
    } else {
        FUZZ_ASSERT(e->nai_len == 0);
    }
    if (e->challenge) {
        FUZZ_ASSERT(e->challenge_len > 0 && fuzz_inside(e->challenge, e->challenge_len, buf, len));
        FUZZ_ASSERT((size_t)(e->challenge - buf) >= start + 2);
        FUZZ_ASSERT(e->challenge[-2] == MIP_EXT_MN_FA_CHALLENGE && e->challenge[-1] == e->challenge_len);
        span[n_span][0] = (size_t)(e->challenge - buf) - 2;
        span[n_span++][1] = (size_t)(e->challenge - buf) + e->challenge_len;
        present++;
    } else {
        FUZZ_ASSERT(e->challenge_len == 0);
    }
    present += e->has_udp_tunnel_request + e->has_udp_tunnel_reply + e->has_revocation;
    FUZZ_ASSERT(present + e->skipped <= e->count);
    for (unsigned i = 0; i < n_span; i++)
        for (unsigned j = i + 1; j < n_span; j++)
            FUZZ_ASSERT(!fuzz_overlap(span[i][0], span[i][1], span[j][0], span[j][1]));
    /* Every extension is at least a type and a length. */
    FUZZ_ASSERT(e->count <= (len - start) / 2);
}

/* Field-by-field, since struct copies need not copy padding. */
static inline bool fuzz_same_view(const MipAuthExtView *a, const MipAuthExtView *b)
{
    return a->present == b->present && a->type == b->type && a->subtype == b->subtype &&
           a->spi == b->spi && a->authenticator == b->authenticator &&
           a->authenticator_len == b->authenticator_len && a->offset == b->offset &&
           a->covered_len == b->covered_len && a->end == b->end;
}

static inline bool fuzz_same_extensions(const MipRegExtensions *a, const MipRegExtensions *b)
{
    return fuzz_same_view(&a->mh, &b->mh) && fuzz_same_view(&a->mf, &b->mf) &&
           fuzz_same_view(&a->fh, &b->fh) && fuzz_same_view(&a->mn_aaa, &b->mn_aaa) &&
           a->nai == b->nai && a->nai_len == b->nai_len && a->challenge == b->challenge &&
           a->challenge_len == b->challenge_len &&
           a->has_udp_tunnel_request == b->has_udp_tunnel_request &&
           a->has_udp_tunnel_reply == b->has_udp_tunnel_reply &&
           a->has_revocation == b->has_revocation && a->skipped == b->skipped &&
           a->count == b->count && a->total_len == b->total_len;
}

/* Non-authentication extensions compared by value (after a re-encode the
 * pointers differ). */
static inline bool fuzz_same_values(const MipRegExtensions *a, const MipRegExtensions *b)
{
    if ((a->nai == NULL) != (b->nai == NULL) || a->nai_len != b->nai_len ||
        (a->nai && memcmp(a->nai, b->nai, a->nai_len) != 0))
        return false;
    if ((a->challenge == NULL) != (b->challenge == NULL) || a->challenge_len != b->challenge_len ||
        (a->challenge && memcmp(a->challenge, b->challenge, a->challenge_len) != 0))
        return false;
    if (a->has_udp_tunnel_request != b->has_udp_tunnel_request ||
        (a->has_udp_tunnel_request &&
         (a->udp_tunnel_request.subtype != b->udp_tunnel_request.subtype ||
          a->udp_tunnel_request.flags != b->udp_tunnel_request.flags ||
          a->udp_tunnel_request.encapsulation != b->udp_tunnel_request.encapsulation)))
        return false;
    if (a->has_udp_tunnel_reply != b->has_udp_tunnel_reply ||
        (a->has_udp_tunnel_reply &&
         (a->udp_tunnel_reply.subtype != b->udp_tunnel_reply.subtype ||
          a->udp_tunnel_reply.reply_code != b->udp_tunnel_reply.reply_code ||
          a->udp_tunnel_reply.flags != b->udp_tunnel_reply.flags ||
          a->udp_tunnel_reply.keepalive != b->udp_tunnel_reply.keepalive)))
        return false;
    return a->has_revocation == b->has_revocation &&
           (!a->has_revocation || (a->revocation.flags == b->revocation.flags &&
                                   a->revocation.timestamp == b->revocation.timestamp));
}

/* Writes the decoded non-authentication extensions again (canonical order). */
static inline MipProtoError fuzz_rewrite_values(MipWriter *w, const MipRegExtensions *e)
{
    MipProtoError err = MIP_OK;
    if (e->nai)
        err = mip_ext_write_nai(w, e->nai, e->nai_len);
    if (err == MIP_OK && e->challenge)
        err = mip_ext_write_challenge(w, e->challenge, e->challenge_len);
    if (err == MIP_OK && e->has_udp_tunnel_request)
        err = mip_ext_write_udp_tunnel_request(w, &e->udp_tunnel_request);
    if (err == MIP_OK && e->has_udp_tunnel_reply)
        err = mip_ext_write_udp_tunnel_reply(w, &e->udp_tunnel_reply);
    if (err == MIP_OK && e->has_revocation)
        err = mip_ext_write_revocation(w, &e->revocation);
    return err;
}
