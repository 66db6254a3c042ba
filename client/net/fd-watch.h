/* A readable-fd watch on the thread-default GMainContext, shared by the
 * sockets of client/net. */
#pragma once

#include <glib.h>

typedef void (*MipFdReadable)(int fd, void *user);

/* Returns a source id attached to the thread-default context. */
guint mip_fd_watch_add(int fd, MipFdReadable cb, void *user);
