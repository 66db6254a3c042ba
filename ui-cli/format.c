/* Human and JSON rendering of mipd's state for mipc. */
#include "format.h"

#include <string.h>

#include "client/proto/registration.h"

#define BOLD "\033[1m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define RED "\033[31m"
#define RESET "\033[0m"

/* --- JSON ----------------------------------------------------------------- */

static char *snake_case(const char *key)
{
    GString *s = g_string_new(NULL);
    for (const char *p = key; *p; p++) {
        if (g_ascii_isupper(*p)) {
            if (p != key)
                g_string_append_c(s, '_');
            g_string_append_c(s, g_ascii_tolower(*p));
        } else {
            g_string_append_c(s, *p == '-' ? '_' : *p);
        }
    }
    return g_string_free(s, FALSE);
}

static void json_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        default:
            if (*p < 0x20)
                g_string_append_printf(out, "\\u%04x", *p);
            else
                g_string_append_c(out, (char)*p);
        }
    }
    g_string_append_c(out, '"');
}

static gint compare_keys(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Dictionaries come out sorted by their JSON key so the output is stable. */
static gint compare_json_keys(gconstpointer a, gconstpointer b)
{
    g_autofree char *ka = snake_case(*(char *const *)a);
    g_autofree char *kb = snake_case(*(char *const *)b);
    return strcmp(ka, kb);
}

static void json_dict(GString *out, GVariant *dict)
{
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
    GVariantIter it;
    const char *k;
    GVariant *v;
    g_variant_iter_init(&it, dict);
    while (g_variant_iter_next(&it, "{&sv}", &k, &v)) {
        g_ptr_array_add(keys, g_strdup(k));
        g_variant_unref(v);
    }
    g_ptr_array_sort(keys, compare_json_keys);
    g_string_append_c(out, '{');
    for (guint i = 0; i < keys->len; i++) {
        g_autoptr(GVariant) value = g_variant_lookup_value(dict, keys->pdata[i], NULL);
        g_autofree char *name = snake_case(keys->pdata[i]);
        if (i)
            g_string_append_c(out, ',');
        json_string(out, name);
        g_string_append_c(out, ':');
        mipc_json_append(out, value);
    }
    g_string_append_c(out, '}');
}

void mipc_json_append(GString *out, GVariant *v)
{
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_VARIANT)) {
        g_autoptr(GVariant) inner = g_variant_get_variant(v);
        mipc_json_append(out, inner);
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_VARDICT)) {
        json_dict(out, v);
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_ARRAY)) {
        g_string_append_c(out, '[');
        for (gsize i = 0; i < g_variant_n_children(v); i++) {
            g_autoptr(GVariant) c = g_variant_get_child_value(v, i);
            if (i)
                g_string_append_c(out, ',');
            mipc_json_append(out, c);
        }
        g_string_append_c(out, ']');
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING)) {
        json_string(out, g_variant_get_string(v, NULL));
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN)) {
        g_string_append(out, g_variant_get_boolean(v) ? "true" : "false");
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64)) {
        g_string_append_printf(out, "%" G_GUINT64_FORMAT, g_variant_get_uint64(v));
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32)) {
        g_string_append_printf(out, "%u", g_variant_get_uint32(v));
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT16)) {
        g_string_append_printf(out, "%u", g_variant_get_uint16(v));
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT32)) {
        g_string_append_printf(out, "%d", g_variant_get_int32(v));
    } else {
        g_autofree char *s = g_variant_print(v, FALSE);
        json_string(out, s);
    }
}

static char *json_line(GVariant *v)
{
    GString *s = g_string_new(NULL);
    mipc_json_append(s, v);
    g_string_append_c(s, '\n');
    return g_string_free(s, FALSE);
}

/* --- human ---------------------------------------------------------------- */

static const char *str(GVariant *d, const char *key)
{
    const char *s = NULL;
    if (!g_variant_lookup(d, key, "&s", &s) || !s)
        return "";
    return s;
}

static guint64 u64(GVariant *d, const char *key)
{
    guint64 v = 0;
    g_variant_lookup(d, key, "t", &v);
    return v;
}

static guint32 u32(GVariant *d, const char *key)
{
    guint32 v = 0;
    g_variant_lookup(d, key, "u", &v);
    return v;
}

static gboolean flag(GVariant *d, const char *key)
{
    gboolean v = FALSE;
    g_variant_lookup(d, key, "b", &v);
    return v;
}

static const char *state_color(const char *state)
{
    if (!strcmp(state, "registered") || !strcmp(state, "at-home"))
        return GREEN;
    if (!strcmp(state, "denied") || !strcmp(state, "idle"))
        return RED;
    return YELLOW;
}

static void field(GString *out, const char *name, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void field(GString *out, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *v = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_string_append_printf(out, "%-18s %s\n", name, v[0] ? v : "-");
}

static char *clock_time(guint64 wall_us)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_local((gint64)(wall_us / G_USEC_PER_SEC));
    return t ? g_date_time_format(t, "%H:%M:%S") : g_strdup("?");
}

char *mipc_format_status(const MipcFormat *f, GVariant *p)
{
    if (f->json)
        return json_line(p);
    GString *out = g_string_new(NULL);
    const char *state = str(p, "State");
    if (f->color)
        field(out, "State:", BOLD "%s%s" RESET, state_color(state), state);
    else
        field(out, "State:", "%s", state);
    field(out, "Home address:", "%s", str(p, "HomeAddress"));
    field(out, "Home agent:", "%s", str(p, "HomeAgent"));
    const char *mode = str(p, "CareOfMode");
    const char *fa = str(p, "ForeignAgent");
    if (fa[0])
        field(out, "Care-of address:", "%s (%s, agent %s)", str(p, "CareOfAddress"), mode, fa);
    else if (str(p, "CareOfAddress")[0] && !strcmp(mode, "none"))
        /* Asked for, not granted yet (registering). */
        field(out, "Care-of address:", "%s (requested)", str(p, "CareOfAddress"));
    else if (str(p, "CareOfAddress")[0])
        field(out, "Care-of address:", "%s (%s)", str(p, "CareOfAddress"), mode);
    else
        field(out, "Care-of address:", "- (%s)", mode);
    field(out, "Interface:", "%s", str(p, "Interface"));
    field(out, "Tunnel:", "%s%s%s", str(p, "Encapsulation"),
          flag(p, "ReverseTunnel") ? ", reverse tunnelling" : "",
          flag(p, "NatTraversal") ? ", UDP (NAT traversal)" : "");
    guint32 lifetime = u32(p, "Lifetime");
    guint64 expires = u64(p, "ExpiresAt");
    if (lifetime && expires == G_MAXUINT64) {
        field(out, "Lifetime:", "infinite");
    } else if (lifetime && expires) {
        gint64 left = ((gint64)expires - f->now_wall_us) / G_USEC_PER_SEC;
        g_autofree char *at = clock_time(expires);
        field(out, "Lifetime:", "%u s granted, %" G_GINT64_FORMAT " s left (until %s)", lifetime,
              MAX(left, 0), at);
    } else {
        field(out, "Lifetime:", "%s", "");
    }
    gint32 code = -1;
    g_variant_lookup(p, "LastReplyCode", "i", &code);
    if (code >= 0)
        field(out, "Last reply:", "%d (%s)", code, mip_reg_code_name((uint8_t)code));
    else
        field(out, "Last reply:", "%s", "");
    const char *err = str(p, "LastError");
    g_autoptr(GVariant) stats = g_variant_lookup_value(p, "Statistics", G_VARIANT_TYPE_VARDICT);
    guint64 dropped = stats ? u64(stats, "replies-dropped") : 0;
    if (f->color && err[0]) {
        field(out, "Last error:", RED "%s" RESET, err);
    } else if (!err[0] && (!strcmp(state, "registering") || !strcmp(state, "deregistering"))) {
        /* A request is out and nothing usable has come back: say so, or a
         * silent agent (or a wrong key: replies that fail authentication are
         * dropped) looks like nothing at all. */
        if (dropped)
            field(out, "Last error:",
                  "- (no valid reply yet; %" G_GUINT64_FORMAT " dropped, e.g. failing "
                  "authentication: check key-file and spi)",
                  dropped);
        else
            field(out, "Last error:", "- (no reply yet)");
    } else {
        field(out, "Last error:", "%s", err);
    }
    if (stats)
        field(out, "Registrations:",
              "%" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT " accepted, %" G_GUINT64_FORMAT
              " denied, %" G_GUINT64_FORMAT " dropped",
              u64(stats, "requests-sent"), u64(stats, "replies-accepted"),
              u64(stats, "replies-denied"), u64(stats, "replies-dropped"));
    return g_string_free(out, FALSE);
}

static char *join_strv(GVariant *d, const char *key, const char *sep)
{
    g_autofree const char **v = NULL;
    if (!g_variant_lookup(d, key, "^a&s", &v))
        return g_strdup("");
    return g_strjoinv(sep, (char **)v);
}

char *mipc_format_agents(const MipcFormat *f, GVariant *agents)
{
    if (f->json)
        return json_line(agents);
    GString *out = g_string_new(NULL);
    g_string_append_printf(out, "%-16s %-10s %-16s %-12s %6s %8s %7s %s\n", "AGENT", "INTERFACE",
                           "CARE-OF", "FLAGS", "SEQ", "REG-LIFE", "EXPIRES", "ROLE");
    for (gsize i = 0; i < g_variant_n_children(agents); i++) {
        g_autoptr(GVariant) a = g_variant_get_child_value(agents, i);
        g_autofree char *coas = join_strv(a, "care-of-addresses", ",");
        g_autofree char *flags = join_strv(a, "flags", "");
        guint16 seq = 0, reg = 0;
        g_variant_lookup(a, "sequence", "q", &seq);
        g_variant_lookup(a, "registration-lifetime", "q", &reg);
        const char *role = flag(a, "home-agent") ? "home agent" : "foreign agent";
        g_string_append_printf(out, "%-16s %-10s %-16s %-12s %6u %7us %6us %s%s\n",
                               str(a, "address"), str(a, "interface"), coas[0] ? coas : "-",
                               flags[0] ? flags : "-", seq, reg, u32(a, "lifetime-left"), role,
                               flag(a, "in-use") ? ", in use" : "");
    }
    if (g_variant_n_children(agents) == 0)
        g_string_append(out, "(no agent heard)\n");
    return g_string_free(out, FALSE);
}

char *mipc_format_links(const MipcFormat *f, GVariant *links)
{
    if (f->json)
        return json_line(links);
    GString *out = g_string_new(NULL);
    g_string_append_printf(out, "%-10s %-9s %-8s %-20s %-16s %-16s %s\n", "LINK", "TYPE",
                           "CARRIER", "ADDRESS", "GATEWAY", "CARE-OF", "STATE");
    for (gsize i = 0; i < g_variant_n_children(links); i++) {
        g_autoptr(GVariant) l = g_variant_get_child_value(links, i);
        const char *state = str(l, "state");
        const char *a = str(l, "address"), *g = str(l, "gateway"), *c = str(l, "care-of-address");
        g_string_append_printf(out, "%-10s %-9s %-8s %-20s %-16s %-16s %s%s%s\n", str(l, "name"),
                               str(l, "type"), flag(l, "carrier") ? "yes" : "no", a[0] ? a : "-",
                               g[0] ? g : "-", c[0] ? c : "-",
                               f->color && !strcmp(state, "in-use") ? GREEN : "", state,
                               f->color && !strcmp(state, "in-use") ? RESET : "");
    }
    if (g_variant_n_children(links) == 0)
        g_string_append(out, "(no link)\n");
    return g_string_free(out, FALSE);
}

static char *stamp(const MipcFormat *f, guint64 wall_us)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(
        (gint64)((wall_us ? wall_us : (guint64)f->now_wall_us) / G_USEC_PER_SEC));
    return g_date_time_format(t, "%H:%M:%S");
}

static char *tagged_json(const char *kind, GVariant *dict)
{
    GString *s = g_string_new("{\"signal\":");
    json_string(s, kind);
    g_string_append(s, ",\"data\":");
    mipc_json_append(s, dict);
    g_string_append(s, "}\n");
    return g_string_free(s, FALSE);
}

char *mipc_format_event(const MipcFormat *f, GVariant *ev)
{
    if (f->json)
        return tagged_json("event", ev);
    g_autofree char *t = stamp(f, u64(ev, "time"));
    return g_strdup_printf("%s %-16s %s\n", t, str(ev, "type"), str(ev, "message"));
}

char *mipc_format_changes(const MipcFormat *f, GVariant *changed)
{
    if (f->json)
        return tagged_json("properties", changed);
    g_autofree char *t = stamp(f, 0);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "%s %-16s", t, "changed");
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
    GVariantIter it;
    const char *k;
    GVariant *v;
    g_variant_iter_init(&it, changed);
    while (g_variant_iter_next(&it, "{&sv}", &k, &v)) {
        /* Counters change all the time; `mipc status` shows them. */
        if (strcmp(k, "Statistics"))
            g_ptr_array_add(keys, g_strdup(k));
        g_variant_unref(v);
    }
    if (keys->len == 0) {
        g_string_free(s, TRUE);
        return NULL;
    }
    g_ptr_array_sort(keys, compare_keys);
    for (guint i = 0; i < keys->len; i++) {
        g_autoptr(GVariant) value = g_variant_lookup_value(changed, keys->pdata[i], NULL);
        g_autofree char *text = g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)
                                    ? g_strdup(g_variant_get_string(value, NULL))
                                    : g_variant_print(value, FALSE);
        g_string_append_printf(s, " %s=%s", (char *)keys->pdata[i], text[0] ? text : "\"\"");
    }
    g_string_append_c(s, '\n');
    return g_string_free(s, FALSE);
}

char *mipc_format_handover(const MipcFormat *f, GVariant *h)
{
    if (f->json)
        return tagged_json("handover", h);
    g_autofree char *t = stamp(f, 0);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "%s %-16s %s -> %s, care-of %s (%s)", t, "handover",
                           str(h, "old-interface")[0] ? str(h, "old-interface") : "-",
                           str(h, "new-interface")[0] ? str(h, "new-interface") : "-",
                           str(h, "care-of-address")[0] ? str(h, "care-of-address") : "-",
                           str(h, "mode"));
    guint32 ms;
    if (str(h, "handover-mode")[0])
        g_string_append_printf(s, ", %s", str(h, "handover-mode"));
    if (g_variant_lookup(h, "trigger-to-accepted-ms", "u", &ms))
        g_string_append_printf(s, ", accepted after %u ms", ms);
    if (g_variant_lookup(h, "trigger-to-switched-ms", "u", &ms))
        g_string_append_printf(s, ", switched after %u ms", ms);
    if (g_variant_lookup(h, "outage-ms", "u", &ms))
        g_string_append_printf(s, ", outage %u ms", ms);
    g_string_append_c(s, '\n');
    return g_string_free(s, FALSE);
}

char *mipc_format_failed(const MipcFormat *f, gint32 code, const char *message)
{
    if (f->json) {
        GString *s = g_string_new("{\"signal\":\"registration_failed\",\"data\":{\"code\":");
        g_string_append_printf(s, "%d,\"message\":", code);
        json_string(s, message);
        g_string_append(s, "}}\n");
        return g_string_free(s, FALSE);
    }
    g_autofree char *t = stamp(f, 0);
    return g_strdup_printf("%s %-16s %s\n", t, "failed", message);
}
