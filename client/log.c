/* A GLib log writer for mipd: journal when stderr is the journal, otherwise
 * "time level: message" lines on stderr. */
#include "log.h"

#include <glib.h>
#include <stdio.h>
#include <unistd.h>

static bool debug_enabled;

static const char *level_name(GLogLevelFlags level)
{
    if (level & G_LOG_LEVEL_ERROR)
        return "error";
    if (level & G_LOG_LEVEL_CRITICAL)
        return "critical";
    if (level & G_LOG_LEVEL_WARNING)
        return "warning";
    if (level & G_LOG_LEVEL_MESSAGE)
        return "notice";
    if (level & G_LOG_LEVEL_INFO)
        return "info";
    return "debug";
}

static GLogWriterOutput writer(GLogLevelFlags level, const GLogField *fields, gsize n,
                               gpointer user)
{
    if ((level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)) && !debug_enabled)
        return G_LOG_WRITER_HANDLED;
    if (g_log_writer_is_journald(fileno(stderr)) &&
        g_log_writer_journald(level, fields, n, user) == G_LOG_WRITER_HANDLED)
        return G_LOG_WRITER_HANDLED;
    const char *message = "";
    for (gsize i = 0; i < n; i++)
        if (g_str_equal(fields[i].key, "MESSAGE"))
            message = fields[i].value;
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *t = g_date_time_format(now, "%H:%M:%S.%f");
    t[12] = '\0'; /* milliseconds are enough */
    fprintf(stderr, "%s mipd %s: %s\n", t, level_name(level), message);
    fflush(stderr);
    return G_LOG_WRITER_HANDLED;
}

void mip_log_setup(bool debug)
{
    debug_enabled = debug;
    g_log_set_writer_func(writer, NULL, NULL);
}
