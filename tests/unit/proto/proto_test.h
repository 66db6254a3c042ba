/* Shared checks for the wire-format unit tests: byte comparison with a hex
 * dump, every-truncation decoding and every-capacity encoding. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "client/proto/error.h"
#include "client/proto/writer.h"

/* Fails the test with both buffers in hex when they differ. */
void pt_assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len);

/* Fails with both error names when they differ. */
#define pt_assert_err(got, want) pt_assert_err_at((got), (want), __FILE__, __LINE__)
void pt_assert_err_at(MipProtoError got, MipProtoError want, const char *file, int line);

typedef MipProtoError (*PtDecodeFn)(const uint8_t *buf, size_t len);

/* Decodes every prefix msg[0..l) for l in [0, len) from an exactly sized heap
 * copy (so AddressSanitizer sees any over-read). Prefixes whose length is in
 * ok_lens[] must give at_ok[i]; all others must give MIP_ERR_TRUNCATED. */
void pt_check_truncations(PtDecodeFn decode, const uint8_t *msg, size_t len, const size_t *ok_lens,
                          const MipProtoError *at_ok, size_t n_ok);

typedef MipProtoError (*PtEncodeFn)(MipWriter *w, const void *ctx);

/* Runs encode into a writer already holding prefix[0..prefix_len), at every
 * capacity from prefix_len to needed-1: each must fail with MIP_ERR_NO_SPACE
 * leaving the writer and its buffer exactly as they were. At capacity needed
 * it must succeed and fill the writer to needed. */
void pt_check_no_space(PtEncodeFn encode, const void *ctx, const uint8_t *prefix, size_t prefix_len,
                       size_t needed);

/* An exactly sized heap copy of buf (never NULL, even for len 0). */
uint8_t *pt_dup(const uint8_t *buf, size_t len);
