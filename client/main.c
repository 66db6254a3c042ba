/* mipd: the Mobile IPv4 mobile-node daemon's entry point — options, start-up
 * checks, signals and the main loop. */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "client/config.h"
#include "client/daemon.h"
#include "client/log.h"
#include "dbus/service.h"

static gboolean on_quit(gpointer loop)
{
    g_message("stopping");
    g_main_loop_quit(loop);
    return G_SOURCE_CONTINUE;
}

static gboolean on_reload(gpointer d)
{
    g_autoptr(GError) error = NULL;
    if (!mip_daemon_reload(d, &error))
        g_warning("reload failed, keeping the old configuration: %s", error->message);
    return G_SOURCE_CONTINUE;
}

/* Detaching happens before any thread exists (libnm's D-Bus worker would not
 * survive a fork); the parent waits on a pipe for the child's start-up result
 * so errors still reach the terminal and the exit status. */
static int detach(int *status_fd)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        close(p[1]);
        char c = 1;
        ssize_t n = read(p[0], &c, 1);
        _exit(n == 1 ? c : 1);
    }
    close(p[0]);
    setsid();
    *status_fd = p[1];
    return 0;
}

static void report(int status_fd, char status)
{
    if (status_fd < 0)
        return;
    if (write(status_fd, &status, 1) != 1) {
        /* The parent is gone; nothing to tell. */
    }
    close(status_fd);
    if (status == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
            close(null);
        }
    }
}

int main(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    gboolean foreground = FALSE, debug = FALSE, version = FALSE, check = FALSE;
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
         "Configuration file (default " MIPD_DEFAULT_CONFIG ")", "FILE"},
        {"foreground", 'f', 0, G_OPTION_ARG_NONE, &foreground,
         "Stay in the foreground (for systemd and terminals)", NULL},
        {"debug", 'd', 0, G_OPTION_ARG_NONE, &debug, "Log debug messages", NULL},
        {"check-config", 0, 0, G_OPTION_ARG_NONE, &check,
         "Check the configuration and the key file, then exit", NULL},
        {"version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
        {NULL},
    };
    setlocale(LC_ALL, "");
    g_autoptr(GOptionContext) ctx = g_option_context_new("- Mobile IPv4 mobile node");
    g_option_context_set_summary(ctx,
        "Keeps this host's home IP address while it moves between networks, registering\n"
        "with its home agent directly or through foreign agents (RFC 5944).");
    g_option_context_set_description(ctx,
        "Signals: SIGHUP reloads the configuration; SIGTERM/SIGINT deregister and stop,\n"
        "removing every address, route and tunnel mipd installed.\n"
        "See mipd(8) and mipd.conf(5).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "mipd: %s (try --help)\n", error->message);
        return 2;
    }
    if (version) {
        printf("mipd %s\n", MIPD_VERSION);
        return 0;
    }
    if (!config_path)
        config_path = g_strdup(MIPD_DEFAULT_CONFIG);
    mip_log_setup(debug);

    MipdConfig *cfg = mipd_config_load(config_path, TRUE, &error);
    if (!cfg) {
        fprintf(stderr, "mipd: %s\n", error->message);
        return 1;
    }
    g_autofree char *desc = mipd_config_describe(cfg);
    if (check) {
        printf("%s: ok: %s\n", cfg->source, desc);
        mipd_config_free(cfg);
        return 0;
    }

    int status_fd = -1;
    if (!foreground && detach(&status_fd) < 0) {
        fprintf(stderr, "mipd: cannot detach: %s\n", g_strerror(errno));
        return 1;
    }
    g_message("mipd %s starting: %s", MIPD_VERSION, desc);
    MipDaemon *d = mip_daemon_new(cfg, config_path, &error);
    if (!d) {
        g_critical("cannot start: %s", error->message);
        report(status_fd, 1);
        return 1;
    }
    MipDBusService *bus = mip_dbus_service_new(d);
    report(status_fd, 0);

    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, on_quit, loop);
    g_unix_signal_add(SIGINT, on_quit, loop);
    g_unix_signal_add(SIGHUP, on_reload, d);
    g_main_loop_run(loop);

    mip_daemon_shutdown(d);
    mip_dbus_service_free(bus);
    mip_daemon_free(d);
    g_message("stopped");
    return 0;
}
