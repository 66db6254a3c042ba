/* Shared checks for the wire-format unit tests (see proto_test.h). */
#include "proto_test.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

static gchar *hex(const uint8_t *p, size_t n)
{
    GString *s = g_string_new(NULL);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(s, "%s%02x", i == 0 ? "" : (i % 4 == 0 ? " | " : " "), p[i]);
    return g_string_free(s, FALSE);
}

void pt_assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
    if (got_len == want_len && (want_len == 0 || memcmp(got, want, want_len) == 0))
        return;
    gchar *g = hex(got, got_len);
    gchar *w = hex(want, want_len);
    g_test_message("got  (%zu): %s", got_len, g);
    g_test_message("want (%zu): %s", want_len, w);
    g_free(g);
    g_free(w);
    g_test_fail();
}

void pt_assert_err_at(MipProtoError got, MipProtoError want, const char *file, int line)
{
    if (got == want)
        return;
    g_test_message("%s:%d: got %d (%s), want %d (%s)", file, line, got, mip_proto_strerror(got),
                   want, mip_proto_strerror(want));
    g_test_fail();
}

uint8_t *pt_dup(const uint8_t *buf, size_t len)
{
    /* malloc rather than g_malloc: g_malloc(0) is NULL, and a decoder must be
     * handed a real pointer with len 0. */
    uint8_t *p = malloc(len > 0 ? len : 1);
    g_assert_nonnull(p);
    if (len > 0)
        memcpy(p, buf, len);
    return p;
}

void pt_check_truncations(PtDecodeFn decode, const uint8_t *msg, size_t len, const size_t *ok_lens,
                          const MipProtoError *at_ok, size_t n_ok)
{
    for (size_t l = 0; l < len; l++) {
        MipProtoError want = MIP_ERR_TRUNCATED;
        for (size_t i = 0; i < n_ok; i++)
            if (ok_lens[i] == l)
                want = at_ok[i];
        uint8_t *copy = pt_dup(msg, l);
        MipProtoError got = decode(copy, l);
        free(copy);
        if (got != want) {
            g_test_message("prefix of %zu/%zu bytes", l, len);
            pt_assert_err(got, want);
        }
    }
}

void pt_check_no_space(PtEncodeFn encode, const void *ctx, const uint8_t *prefix, size_t prefix_len,
                       size_t needed)
{
    enum { SENTINEL = 0xa5, SLACK = 16 };
    g_assert_cmpuint(needed, >, prefix_len);
    size_t size = needed + SLACK;
    uint8_t *buf = g_malloc(size);
    uint8_t *expect = g_malloc(size);
    memset(expect, SENTINEL, size);
    if (prefix_len > 0)
        memcpy(expect, prefix, prefix_len);

    for (size_t cap = prefix_len; cap <= needed; cap++) {
        memcpy(buf, expect, size);
        MipWriter w;
        mip_writer_init(&w, buf, cap);
        w.len = prefix_len;
        MipProtoError err = encode(&w, ctx);
        if (cap < needed) {
            if (err != MIP_ERR_NO_SPACE || w.len != prefix_len || w.cap != cap || w.buf != buf ||
                memcmp(buf, expect, size) != 0) {
                g_test_message("capacity %zu of %zu: writer or buffer changed, err %s", cap, needed,
                               mip_proto_strerror(err));
                g_test_fail();
            }
        } else {
            pt_assert_err(err, MIP_OK);
            g_assert_cmpuint(w.len, ==, needed);
        }
    }
    g_free(buf);
    g_free(expect);
}
