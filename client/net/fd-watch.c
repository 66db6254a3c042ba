/* Readable-fd watches on the thread-default GMainContext. */
#include "fd-watch.h"

#include <glib-unix.h>

typedef struct {
    MipFdReadable cb;
    void *user;
} Watch;

static gboolean on_ready(gint fd, GIOCondition cond, gpointer data)
{
    Watch *w = data;
    /* Errors are read out by the socket's own handler (SO_ERROR), so a queued
     * ICMP error cannot make the loop spin. */
    w->cb(fd, w->user);
    return G_SOURCE_CONTINUE;
}

guint mip_fd_watch_add(int fd, MipFdReadable cb, void *user)
{
    Watch *w = g_new0(Watch, 1);
    w->cb = cb;
    w->user = user;
    GSource *src = g_unix_fd_source_new(fd, G_IO_IN | G_IO_ERR | G_IO_HUP);
    g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_ready, w, g_free);
    guint id = g_source_attach(src, g_main_context_get_thread_default());
    g_source_unref(src);
    return id;
}
