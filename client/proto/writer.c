/* The bounded output buffer: all-or-nothing reservations, so a failed encoder
 * never leaves half a field behind. */
#include "writer.h"

#include <string.h>

uint8_t *mip_writer_reserve(MipWriter *w, size_t n)
{
    /* A NULL buffer (capacity 0) can hold nothing, not even zero bytes: a
     * NULL return must always mean failure. */
    if (w == NULL || w->buf == NULL || w->len > w->cap || n > w->cap - w->len)
        return NULL;
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

MipProtoError mip_writer_put(MipWriter *w, const void *data, size_t n)
{
    if (n > 0 && data == NULL)
        return MIP_ERR_BAD_VALUE;
    uint8_t *p = mip_writer_reserve(w, n);
    if (p == NULL)
        return MIP_ERR_NO_SPACE;
    if (n > 0)
        memcpy(p, data, n);
    return MIP_OK;
}
