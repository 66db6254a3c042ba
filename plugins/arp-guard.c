/* arp-guard: away from home the node must not answer ARP for its home
 * address (RFC 5944 §4.6); these sysctls make sure of it per plan, and the
 * node's own values come back at home and when mipd stops. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "plugins/arp-guard.h"

typedef struct Sysctl {
    char path[128];
    char value[16];
} Sysctl;

struct MipArpGuard {
    GArray *saved;   /* Sysctl: the node's values before we changed them */
    GArray *current; /* Sysctl: what the applied plan wants */
    GArray *pending; /* Sysctl: what the plan being applied wants */
};

static gboolean read_file(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "re");
    gboolean ok;

    if (!f)
        return FALSE;
    ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = '\0';
    return ok;
}

static gboolean write_file(const char *path, const char *value)
{
    FILE *f = fopen(path, "we");
    gboolean ok;

    if (!f)
        return FALSE;
    ok = fputs(value, f) >= 0;
    ok = (fclose(f) == 0) && ok;
    return ok;
}

static gboolean has_path(GArray *a, const char *path)
{
    for (guint i = 0; a && i < a->len; i++)
        if (strcmp(g_array_index(a, Sysctl, i).path, path) == 0)
            return TRUE;
    return FALSE;
}

/* Sets one value, remembering the first one we saw so the node's own
 * setting comes back when no plan wants ours any more. A failure is logged,
 * not fatal: a read-only /proc must not cost the node its connectivity. */
static void set_one(MipArpGuard *g, const Sysctl *want)
{
    Sysctl s = {0};

    g_strlcpy(s.path, want->path, sizeof s.path);
    if (!read_file(s.path, s.value, sizeof s.value)) {
        g_warning("arp-guard: cannot read %s: %s", s.path, g_strerror(errno));
        return;
    }
    if (strcmp(s.value, want->value) == 0)
        return;
    if (!write_file(s.path, want->value)) {
        g_warning("arp-guard: cannot set %s to %s: %s", s.path, want->value, g_strerror(errno));
        return;
    }
    if (!has_path(g->saved, s.path))
        g_array_append_val(g->saved, s);
}

/* Puts back every saved value whose path want does not set (NULL: all). */
static void restore_unwanted(MipArpGuard *g, GArray *want)
{
    for (guint i = g->saved->len; i-- > 0;) {
        const Sysctl *s = &g_array_index(g->saved, Sysctl, i);

        if (has_path(want, s->path))
            continue;
        /* ENOENT: the link is gone, and its setting with it. */
        if (!write_file(s->path, s->value) && errno != ENOENT)
            g_warning("arp-guard: cannot restore %s to %s: %s", s->path, s->value,
                      g_strerror(errno));
        g_array_remove_index(g->saved, i);
    }
}

static void want(GArray *w, const char *dev, const char *key, int value)
{
    Sysctl s = {0};

    snprintf(s.path, sizeof s.path, "/proc/sys/net/ipv4/conf/%s/%s", dev, key);
    snprintf(s.value, sizeof s.value, "%d", value);
    g_array_append_val(w, s);
}

/* arp_ignore=1 on "all" (a maximum over every link, present and future): a
 * link answers only for addresses on itself, so the home address on mip0
 * or lo is never claimed on a visited link. In FA mode the home address is
 * on the visited link itself, so that link gets 2: answer only senders
 * inside the target's subnet, and nobody is inside a /32 (a DHCP lease NM
 * may hold on that link still gets answers). arp_announce=2: our own ARP
 * requests carry an address of the link's subnet, not the home address.
 * NONE counts as away: the node does not know it is home. */
static GArray *plan_wants(const MipPlan *plan)
{
    GArray *w = g_array_new(FALSE, TRUE, sizeof(Sysctl));
    char dev[IF_NAMESIZE];

    if (plan->mode == MIP_PLAN_HOME)
        return w;
    want(w, "all", "arp_ignore", 1);
    want(w, "all", "arp_announce", 2);
    if (plan->mode == MIP_PLAN_FOREIGN_AGENT && if_indextoname((unsigned)plan->ifindex, dev))
        want(w, dev, "arp_ignore", 2);
    return w;
}

MipArpGuard *mip_arp_guard_new(void)
{
    MipArpGuard *g = g_new0(MipArpGuard, 1);

    g->saved = g_array_new(FALSE, TRUE, sizeof(Sysctl));
    g->current = g_array_new(FALSE, TRUE, sizeof(Sysctl));
    return g;
}

void mip_arp_guard_protect(MipArpGuard *g, const MipPlan *plan)
{
    if (g->pending)
        g_array_unref(g->pending);
    g->pending = plan_wants(plan);
    for (guint i = 0; i < g->pending->len; i++)
        set_one(g, &g_array_index(g->pending, Sysctl, i));
}

void mip_arp_guard_settle(MipArpGuard *g)
{
    if (!g->pending)
        return;
    restore_unwanted(g, g->pending);
    g_array_unref(g->current);
    g->current = g->pending;
    g->pending = NULL;
}

void mip_arp_guard_abort(MipArpGuard *g)
{
    restore_unwanted(g, g->current);
    if (g->pending)
        g_array_unref(g->pending);
    g->pending = NULL;
}

void mip_arp_guard_free(MipArpGuard *g)
{
    if (!g)
        return;
    restore_unwanted(g, NULL);
    g_array_unref(g->saved);
    g_array_unref(g->current);
    if (g->pending)
        g_array_unref(g->pending);
    g_free(g);
}
