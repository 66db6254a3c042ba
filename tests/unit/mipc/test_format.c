/* mipc output against golden files, human and JSON, for each state a user
 * meets. MIPC_UPDATE_GOLDEN=1 rewrites the goldens after an intended change. */
#include <glib.h>
#include <string.h>

#include "format.h"

static const gint64 NOW = 1795000000LL * G_USEC_PER_SEC; /* a fixed "now" */

typedef struct {
    const char *name;
    const char *state;
    const char *coa;
    const char *mode;
    const char *fa;
    const char *ifname;
    guint32 lifetime;
    gint64 expires_in_s; /* relative to NOW; 0 = none */
    gint32 code;
    const char *error;
} StatusCase;

static const StatusCase cases[] = {
    {"at-home", "at-home", "", "home", "", "home0", 0, 0, 0, ""},
    {"registered-fa", "registered", "198.51.100.1", "foreign-agent", "198.51.100.1", "fa0", 600,
     542, 0, ""},
    {"registered-colocated", "registered", "192.0.2.123", "co-located", "", "dhcp0", 600, 300, 0,
     ""},
    {"registering-silent-ha", "registering", "", "none", "", "dhcp0", 0, 0, -1,
     "no reply from home agent 198.18.0.1 after 4 requests"},
    {"denied-131", "denied", "", "none", "", "dhcp0", 0, 0, 131,
     "home agent 198.18.0.1 denied registration: mobile node failed authentication (131)"},
};

static GVariant *status_props(const StatusCase *c)
{
    GVariantBuilder st;
    g_variant_builder_init(&st, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&st, "{sv}", "requests-sent", g_variant_new_uint64(4));
    g_variant_builder_add(&st, "{sv}", "replies-accepted",
                          g_variant_new_uint64(c->lifetime ? 1 : 0));
    g_variant_builder_add(&st, "{sv}", "replies-denied",
                          g_variant_new_uint64(c->code > 1 ? 1 : 0));
    g_variant_builder_add(&st, "{sv}", "replies-dropped", g_variant_new_uint64(0));
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "State", g_variant_new_string(c->state));
    g_variant_builder_add(&b, "{sv}", "HomeAddress", g_variant_new_string("198.18.0.50"));
    g_variant_builder_add(&b, "{sv}", "HomeAgent", g_variant_new_string("198.18.0.1"));
    g_variant_builder_add(&b, "{sv}", "CareOfAddress", g_variant_new_string(c->coa));
    g_variant_builder_add(&b, "{sv}", "CareOfMode", g_variant_new_string(c->mode));
    g_variant_builder_add(&b, "{sv}", "ForeignAgent", g_variant_new_string(c->fa));
    g_variant_builder_add(&b, "{sv}", "Interface", g_variant_new_string(c->ifname));
    g_variant_builder_add(&b, "{sv}", "Encapsulation", g_variant_new_string("ipip"));
    g_variant_builder_add(&b, "{sv}", "ReverseTunnel", g_variant_new_boolean(TRUE));
    g_variant_builder_add(&b, "{sv}", "NatTraversal", g_variant_new_boolean(FALSE));
    g_variant_builder_add(&b, "{sv}", "Lifetime", g_variant_new_uint32(c->lifetime));
    guint64 expires = c->expires_in_s ? (guint64)(NOW + c->expires_in_s * G_USEC_PER_SEC) : 0;
    guint64 registered =
        c->expires_in_s ? (guint64)(NOW - (c->lifetime - c->expires_in_s) * G_USEC_PER_SEC) : 0;
    g_variant_builder_add(&b, "{sv}", "RegisteredAt", g_variant_new_uint64(registered));
    g_variant_builder_add(&b, "{sv}", "ExpiresAt", g_variant_new_uint64(expires));
    g_variant_builder_add(&b, "{sv}", "LastReplyCode", g_variant_new_int32(c->code));
    g_variant_builder_add(&b, "{sv}", "LastError", g_variant_new_string(c->error));
    g_variant_builder_add(&b, "{sv}", "Statistics", g_variant_builder_end(&st));
    return g_variant_ref_sink(g_variant_builder_end(&b));
}

static void check_golden(const char *name, const char *actual)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "golden", name, NULL);
    if (g_getenv("MIPC_UPDATE_GOLDEN")) {
        g_assert_true(g_file_set_contents(path, actual, -1, NULL));
        return;
    }
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;
    if (!g_file_get_contents(path, &expected, NULL, &error))
        g_error("%s (run with MIPC_UPDATE_GOLDEN=1 to create it)", error->message);
    if (strcmp(expected, actual) != 0)
        g_error("%s differs from the golden file.\n--- expected\n%s--- actual\n%s", name,
                expected, actual);
}

static void test_status_matches_goldens(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GVariant) props = status_props(&cases[i]);
        for (int json = 0; json <= 1; json++) {
            MipcFormat f = {.json = json, .color = FALSE, .now_wall_us = NOW};
            g_autofree char *out = mipc_format_status(&f, props);
            g_autofree char *name =
                g_strdup_printf("status-%s.%s", cases[i].name, json ? "json" : "txt");
            check_golden(name, out);
        }
    }
}

static GVariant *agents(void)
{
    return g_variant_ref_sink(g_variant_new_parsed(
        "[{'address': <'198.51.100.1'>, 'interface': <'fa0'>, "
        "'care-of-addresses': <['198.51.100.1']>, 'flags': <['R', 'F', 'T']>, "
        "'sequence': <uint16 17>, 'registration-lifetime': <uint16 600>, "
        "'lifetime-left': <uint32 8>, 'last-seen': <uint64 1795000000000000>, "
        "'home-agent': <false>, 'in-use': <true>},"
        " {'address': <'198.18.0.1'>, 'interface': <'home0'>, "
        "'care-of-addresses': <@as []>, 'flags': <['H']>, "
        "'sequence': <uint16 300>, 'registration-lifetime': <uint16 600>, "
        "'lifetime-left': <uint32 3>, 'last-seen': <uint64 1794999999000000>, "
        "'home-agent': <true>, 'in-use': <false>}]"));
}

static GVariant *links(void)
{
    return g_variant_ref_sink(g_variant_new_parsed(
        "[{'name': <'fa0'>, 'type': <'ethernet'>, 'carrier': <true>, 'active': <true>, "
        "'address': <'198.51.100.123/24'>, 'gateway': <'198.51.100.1'>, "
        "'care-of-address': <'198.51.100.1'>, 'state': <'in-use'>, 'preference': <0>},"
        " {'name': <'dhcp0'>, 'type': <'ethernet'>, 'carrier': <false>, 'active': <false>, "
        "'address': <''>, 'gateway': <''>, 'care-of-address': <''>, 'state': <'down'>, "
        "'preference': <0>},"
        " {'name': <'wlan0'>, 'type': <'wifi'>, 'carrier': <true>, 'active': <true>, "
        "'address': <'192.0.2.150/24'>, 'gateway': <'192.0.2.1'>, "
        "'care-of-address': <''>, 'state': <'usable'>, 'preference': <1>}]"));
}

static void test_agents_and_links_match_goldens(void)
{
    g_autoptr(GVariant) a = agents();
    g_autoptr(GVariant) l = links();
    g_autoptr(GVariant) none = g_variant_ref_sink(g_variant_new_parsed("@aa{sv} []"));
    for (int json = 0; json <= 1; json++) {
        MipcFormat f = {.json = json, .color = FALSE, .now_wall_us = NOW};
        const char *ext = json ? "json" : "txt";
        g_autofree char *oa = mipc_format_agents(&f, a);
        g_autofree char *ol = mipc_format_links(&f, l);
        g_autofree char *on = mipc_format_agents(&f, none);
        g_autofree char *na = g_strdup_printf("agents.%s", ext);
        g_autofree char *nl = g_strdup_printf("links.%s", ext);
        g_autofree char *nn = g_strdup_printf("agents-none.%s", ext);
        check_golden(na, oa);
        check_golden(nl, ol);
        check_golden(nn, on);
    }
}

static void test_monitor_lines_match_goldens(void)
{
    g_autoptr(GVariant) ev = g_variant_ref_sink(g_variant_new_parsed(
        "{'type': <'accepted'>, 'message': <'registration accepted by home agent 198.18.0.1 via "
        "foreign agent 198.51.100.1 on fa0, lifetime 600 s'>, 'interface': <'fa0'>, "
        "'address': <'198.51.100.1'>, 'code': <0>, 'time': <uint64 1795000000000000>}"));
    g_autoptr(GVariant) changed = g_variant_ref_sink(g_variant_new_parsed(
        "{'State': <'registered'>, 'CareOfAddress': <'198.51.100.1'>, "
        "'Statistics': <@a{sv} {}>}"));
    g_autoptr(GVariant) only_stats =
        g_variant_ref_sink(g_variant_new_parsed("{'Statistics': <@a{sv} {}>}"));
    g_autoptr(GVariant) ho = g_variant_ref_sink(g_variant_new_parsed(
        "{'old-interface': <'fa0'>, 'new-interface': <'dhcp0'>, "
        "'care-of-address': <'192.0.2.123'>, 'mode': <'co-located'>, "
        "'handover-mode': <'make-before-break'>, 'trigger-to-accepted-ms': <uint32 5>, "
        "'trigger-to-switched-ms': <uint32 7>}"));
    for (int json = 0; json <= 1; json++) {
        MipcFormat f = {.json = json, .color = FALSE, .now_wall_us = NOW};
        GString *all = g_string_new(NULL);
        char *parts[] = {mipc_format_event(&f, ev), mipc_format_changes(&f, changed),
                         mipc_format_changes(&f, only_stats), mipc_format_handover(&f, ho),
                         mipc_format_failed(&f, 131, "denied: mobile node failed authentication")};
        for (size_t i = 0; i < G_N_ELEMENTS(parts); i++) {
            if (parts[i])
                g_string_append(all, parts[i]);
            g_free(parts[i]);
        }
        /* Human output hides counter-only changes; JSON keeps every change. */
        if (!json)
            g_assert_null(mipc_format_changes(&f, only_stats));
        g_autofree char *name = g_strdup_printf("monitor.%s", json ? "json" : "txt");
        check_golden(name, all->str);
        g_string_free(all, TRUE);
    }
}

static void test_json_escapes_and_snake_cases_keys(void)
{
    g_autoptr(GVariant) v = g_variant_ref_sink(g_variant_new_parsed(
        "{'LastError': <'say \"no\"\\n'>, 'care-of-address': <''>}"));
    GString *s = g_string_new(NULL);
    mipc_json_append(s, v);
    g_assert_cmpstr(s->str, ==, "{\"care_of_address\":\"\",\"last_error\":\"say \\\"no\\\"\\n\"}");
    g_string_free(s, TRUE);
}

int main(int argc, char **argv)
{
    /* Times print in local time: pin it for the goldens. */
    g_setenv("TZ", "UTC", TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mipc/status_matches_goldens", test_status_matches_goldens);
    g_test_add_func("/mipc/agents_and_links_match_goldens", test_agents_and_links_match_goldens);
    g_test_add_func("/mipc/monitor_lines_match_goldens", test_monitor_lines_match_goldens);
    g_test_add_func("/mipc/json_escapes_and_snake_cases_keys",
                    test_json_escapes_and_snake_cases_keys);
    return g_test_run();
}
