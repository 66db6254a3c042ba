/* mipc: status and control of mipd over D-Bus (org.mipd.MobileNode1).
 * Exit codes: 0 ok, 1 failed, 2 usage, 3 mipd not running. */
#include <glib-unix.h>
#include <gio/gio.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "mipd-dbus.h"

#define BUS_NAME "org.mipd.MobileNode1"
#define OBJECT_PATH "/org/mipd/MobileNode1"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_NOT_RUNNING = 3 };

static gboolean opt_json;

static MipcFormat format_options(void)
{
    MipcFormat f = {.json = opt_json,
                    .color = !opt_json && isatty(STDOUT_FILENO) && !g_getenv("NO_COLOR"),
                    .now_wall_us = g_get_real_time()};
    return f;
}

static void print(char *text)
{
    if (text) {
        fputs(text, stdout);
        fflush(stdout);
        g_free(text);
    }
}

/* Set by main(): the command changes mipd (needs root or the control group). */
static gboolean opt_control_command;

#define BUS_ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"
#define MIPD_ACCESS_DENIED BUS_NAME ".Error.AccessDenied"

/* The bus's own refusal reads "Rejected send message, 1 matched rules;
 * type=..." — accurate, but no help to a person. Say what it means and keep
 * the bus's text only as the JSON "detail". */
static char *explain(const char *remote, const char *message, char **detail)
{
    *detail = NULL;
    if (!remote)
        return g_strdup(message);
    if (!strcmp(remote, BUS_ACCESS_DENIED)) {
        *detail = g_strdup(message);
        if (opt_control_command)
            return g_strdup("permission denied: only root or a member of mipd's control group "
                            "may change mipd (the system bus policy refused the call; try sudo)");
        return g_strdup("permission denied: the system bus policy refused the call (is "
                        "org.mipd.MobileNode1.conf installed in /usr/share/dbus-1/system.d?)");
    }
    if (!strcmp(remote, MIPD_ACCESS_DENIED))
        return g_strdup_printf("permission denied: %s", message);
    return g_strdup(message);
}

static int fail(const char *what, GError *error)
{
    if (!error) {
        fprintf(stderr, "mipc: %s: failed for an unknown reason\n", what);
        return EXIT_FAILED;
    }
    g_autofree char *remote = g_dbus_error_get_remote_error(error);
    g_dbus_error_strip_remote_error(error);
    g_autofree char *detail = NULL;
    g_autofree char *message = explain(remote, error->message, &detail);
    if (opt_json) {
        GString *s = g_string_new("{\"error\":");
        g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new_string(message));
        mipc_json_append(s, v);
        if (remote) {
            g_autoptr(GVariant) n = g_variant_ref_sink(g_variant_new_string(remote));
            g_string_append(s, ",\"name\":");
            mipc_json_append(s, n);
        }
        if (detail) {
            g_autoptr(GVariant) d = g_variant_ref_sink(g_variant_new_string(detail));
            g_string_append(s, ",\"detail\":");
            mipc_json_append(s, d);
        }
        g_string_append(s, "}\n");
        fputs(s->str, stdout);
        g_string_free(s, TRUE);
    }
    fprintf(stderr, "mipc: %s: %s\n", what, message);
    /* mipd left the bus between connecting and the call. */
    if (remote && (!strcmp(remote, "org.freedesktop.DBus.Error.ServiceUnknown") ||
                   !strcmp(remote, "org.freedesktop.DBus.Error.NameHasNoOwner")))
        return EXIT_NOT_RUNNING;
    return EXIT_FAILED;
}

/* Connects and makes sure mipd owns its name, so "not running" is told apart
 * from a failing call. */
static int connect_proxy(MipDBusMobileNode1 **out)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
    if (!bus) {
        if (opt_json) {
            GString *s = g_string_new("{\"error\":");
            g_autofree char *text =
                g_strdup_printf("cannot reach the system bus: %s", error->message);
            g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new_string(text));
            mipc_json_append(s, v);
            g_string_append(s, ",\"name\":\"no-bus\"}\n");
            fputs(s->str, stdout);
            g_string_free(s, TRUE);
        }
        fprintf(stderr, "mipc: cannot reach the system bus: %s\n", error->message);
        return EXIT_NOT_RUNNING;
    }
    *out = mip_dbus_mobile_node1_proxy_new_sync(bus, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                BUS_NAME, OBJECT_PATH, NULL, &error);
    if (!*out)
        return fail("connecting to mipd", error);
    g_autofree char *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(*out));
    if (!owner) {
        g_clear_object(out);
        if (opt_json)
            puts("{\"error\":\"mipd is not running\",\"name\":\"not-running\"}");
        fprintf(stderr, "mipc: mipd is not running (no owner of %s on the system bus)\n",
                BUS_NAME);
        return EXIT_NOT_RUNNING;
    }
    return EXIT_OK;
}

static GVariant *all_properties(MipDBusMobileNode1 *p)
{
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_auto(GStrv) names = g_dbus_proxy_get_cached_property_names(G_DBUS_PROXY(p));
    for (char **n = names; n && *n; n++) {
        g_autoptr(GVariant) v = g_dbus_proxy_get_cached_property(G_DBUS_PROXY(p), *n);
        if (v)
            g_variant_builder_add(&b, "{sv}", *n, v);
    }
    return g_variant_ref_sink(g_variant_builder_end(&b));
}

static int cmd_status(MipDBusMobileNode1 *p, char **args)
{
    MipcFormat f = format_options();
    g_autoptr(GVariant) props = all_properties(p);
    print(mipc_format_status(&f, props));
    return EXIT_OK;
}

static int cmd_agents(MipDBusMobileNode1 *p, char **args)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) agents = NULL;
    if (!mip_dbus_mobile_node1_call_get_agents_sync(p, &agents, NULL, &error))
        return fail("agents", error);
    MipcFormat f = format_options();
    print(mipc_format_agents(&f, agents));
    return EXIT_OK;
}

static int cmd_links(MipDBusMobileNode1 *p, char **args)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) links = NULL;
    if (!mip_dbus_mobile_node1_call_get_links_sync(p, &links, NULL, &error))
        return fail("links", error);
    MipcFormat f = format_options();
    print(mipc_format_links(&f, links));
    return EXIT_OK;
}

static void on_signal(GDBusProxy *proxy, const char *sender, const char *signal,
                      GVariant *params, gpointer user)
{
    MipcFormat f = format_options();
    if (!strcmp(signal, "Event")) {
        g_autoptr(GVariant) ev = g_variant_get_child_value(params, 0);
        print(mipc_format_event(&f, ev));
    } else if (!strcmp(signal, "HandoverCompleted")) {
        g_autoptr(GVariant) h = g_variant_get_child_value(params, 0);
        print(mipc_format_handover(&f, h));
    } else if (!strcmp(signal, "RegistrationFailed")) {
        gint32 code;
        const char *msg;
        g_variant_get(params, "(i&s)", &code, &msg);
        print(mipc_format_failed(&f, code, msg));
    }
}

static void on_properties(GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer user)
{
    MipcFormat f = format_options();
    print(mipc_format_changes(&f, changed));
}

static void on_owner(GObject *proxy, GParamSpec *pspec, gpointer loop)
{
    g_autofree char *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(proxy));
    if (!owner) {
        fprintf(stderr, "mipc: mipd went away\n");
        g_main_loop_quit(loop);
    }
}

static gboolean on_interrupt(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static int cmd_monitor(MipDBusMobileNode1 *p, char **args)
{
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    MipcFormat f = format_options();
    /* Start with where things stand, then one line per change. */
    g_autoptr(GVariant) props = all_properties(p);
    g_autoptr(GVariant) state =
        g_variant_new_parsed("{'State': <%s>}", mip_dbus_mobile_node1_get_state(p));
    g_variant_ref_sink(state);
    print(mipc_format_changes(&f, state));
    g_signal_connect(p, "g-signal", G_CALLBACK(on_signal), NULL);
    g_signal_connect(p, "g-properties-changed", G_CALLBACK(on_properties), NULL);
    g_signal_connect(p, "notify::g-name-owner", G_CALLBACK(on_owner), loop);
    g_unix_signal_add(SIGINT, on_interrupt, loop);
    g_unix_signal_add(SIGTERM, on_interrupt, loop);
    g_main_loop_run(loop);
    return EXIT_OK;
}

static int done(const char *what, gboolean ok, GError *error)
{
    if (!ok)
        return fail(what, error);
    if (opt_json)
        puts("{\"ok\":true}");
    return EXIT_OK;
}

/* The call must happen before done() reads the error: a function's
 * arguments are evaluated in no set order, so passing both the call and its
 * GError to done() handed it a NULL error on failure (and mipc crashed). */
static int cmd_register(MipDBusMobileNode1 *p, char **args)
{
    g_autoptr(GError) error = NULL;
    gboolean ok = mip_dbus_mobile_node1_call_register_sync(p, NULL, &error);
    return done("register", ok, error);
}

static int cmd_deregister(MipDBusMobileNode1 *p, char **args)
{
    g_autoptr(GError) error = NULL;
    gboolean ok = mip_dbus_mobile_node1_call_deregister_sync(p, NULL, &error);
    return done("deregister", ok, error);
}

static int cmd_handover(MipDBusMobileNode1 *p, char **args)
{
    g_autoptr(GError) error = NULL;
    gboolean ok = mip_dbus_mobile_node1_call_handover_sync(p, args[0], NULL, &error);
    return done("handover", ok, error);
}

static int cmd_reload(MipDBusMobileNode1 *p, char **args)
{
    g_autoptr(GError) error = NULL;
    gboolean ok = mip_dbus_mobile_node1_call_reload_sync(p, NULL, &error);
    return done("reload", ok, error);
}

static const struct {
    const char *name;
    int nargs;
    gboolean control; /* changes mipd: root or the control group */
    int (*run)(MipDBusMobileNode1 *p, char **args);
    const char *help;
} commands[] = {
    {"status", 0, FALSE, cmd_status, "state of the binding (default)"},
    {"agents", 0, FALSE, cmd_agents, "mobility agents heard"},
    {"links", 0, FALSE, cmd_links, "network links and their care-of addresses"},
    {"monitor", 0, FALSE, cmd_monitor, "one line per event until Ctrl-C"},
    {"register", 0, TRUE, cmd_register, "register (or renew) now"},
    {"deregister", 0, TRUE, cmd_deregister, "deregister and stay stopped until register"},
    {"handover", 1, TRUE, cmd_handover, "IFACE: move to this interface now"},
    {"reload", 0, TRUE, cmd_reload, "re-read mipd.conf"},
};

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    GOptionEntry entries[] = {
        {"json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "Machine-readable JSON output", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("[COMMAND [ARGS]] - control mipd");
    GString *desc = g_string_new("Commands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        g_string_append_printf(desc, "  %-12s %s\n", commands[i].name, commands[i].help);
    g_string_append(desc, "\nExit status: 0 ok, 1 failed, 2 usage error, 3 mipd not running.\n"
                          "See mipc(1).");
    g_option_context_set_description(ctx, desc->str);
    g_string_free(desc, TRUE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "mipc: %s (try --help)\n", error->message);
        return EXIT_USAGE;
    }
    const char *name = argc > 1 ? argv[1] : "status";
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(commands[i].name, name))
            continue;
        int given = argc > 1 ? argc - 2 : 0;
        if (given != commands[i].nargs) {
            fprintf(stderr, "mipc: %s takes %d argument%s (try --help)\n", name,
                    commands[i].nargs, commands[i].nargs == 1 ? "" : "s");
            return EXIT_USAGE;
        }
        opt_control_command = commands[i].control;
        g_autoptr(MipDBusMobileNode1) proxy = NULL;
        int rc = connect_proxy(&proxy);
        if (rc != EXIT_OK)
            return rc;
        return commands[i].run(proxy, argv + 2);
    }
    fprintf(stderr, "mipc: unknown command '%s' (try --help)\n", name);
    return EXIT_USAGE;
}
