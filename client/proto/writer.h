/* A bounded output buffer for encoders: a failed write leaves it unchanged. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct MipWriter {
    uint8_t *buf;
    size_t cap;
    size_t len;
} MipWriter;

static inline void mip_writer_init(MipWriter *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
}

/* Reserves n bytes at the end and returns them, or NULL (MIP_ERR_NO_SPACE)
 * leaving w unchanged. */
uint8_t *mip_writer_reserve(MipWriter *w, size_t n);
MipProtoError mip_writer_put(MipWriter *w, const void *data, size_t n);
