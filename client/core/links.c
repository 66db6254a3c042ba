/* The link table: classification by the configured patterns, lookups. */
#include "links.h"

#include <fnmatch.h>
#include <string.h>

void mip_links_init(MipLinkTable *t)
{
    t->n = 0;
}

MipLinkEntry *mip_links_find(MipLinkTable *t, int ifindex)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->links[i].info.ifindex == ifindex)
            return &t->links[i];
    }
    return NULL;
}

MipLinkEntry *mip_links_find_name(MipLinkTable *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strncmp(t->links[i].info.name, name, MIP_IFNAME_MAX) == 0)
            return &t->links[i];
    }
    return NULL;
}

MipLinkEntry *mip_links_add(MipLinkTable *t, int ifindex)
{
    if (t->n == MIP_LINK_TABLE_MAX)
        return NULL;
    MipLinkEntry *l = &t->links[t->n++];
    memset(l, 0, sizeof *l);
    l->info.ifindex = ifindex;
    l->preference = -1;
    mip_solicit_init(&l->solicit);
    return l;
}

void mip_links_remove(MipLinkTable *t, int ifindex)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->links[i].info.ifindex == ifindex) {
            /* Keep the order: the status listing follows it. */
            memmove(&t->links[i], &t->links[i + 1], (t->n - i - 1) * sizeof t->links[0]);
            t->n--;
            return;
        }
    }
}

/* Carrier is enough: a foreign agent's network need not give us an address
 * (and soliciting at carrier-up, before DHCP, saves the lease's time). A
 * co-located attachment also needs the address, which policy checks. */
bool mip_link_usable(const MipLinkEntry *l)
{
    return l->info.carrier && !l->ignored;
}

const char *mip_link_type_name(MipLinkType t)
{
    switch (t) {
    case MIP_LINK_ETHERNET:
        return "ethernet";
    case MIP_LINK_WIFI:
        return "wifi";
    case MIP_LINK_WWAN:
        return "wwan";
    case MIP_LINK_UNKNOWN:
        break;
    }
    return "unknown";
}

bool mip_link_pattern_matches(const char *pattern, const MipLinkInfo *info, bool by_type)
{
    /* The name is copied so that a plugin's unterminated 16-byte name is safe. */
    char name[MIP_IFNAME_MAX + 1];
    memcpy(name, info->name, MIP_IFNAME_MAX);
    name[MIP_IFNAME_MAX] = '\0';

    if (by_type && info->type != MIP_LINK_UNKNOWN &&
        strcmp(pattern, mip_link_type_name(info->type)) == 0)
        return true;
    return name[0] != '\0' && fnmatch(pattern, name, 0) == 0;
}

void mip_link_classify(MipLinkEntry *l, const MipMnConfig *cfg)
{
    l->ignored = false;
    for (size_t i = 0; i < cfg->n_ignore && i < MIP_MN_MAX_PATTERNS; i++) {
        if (mip_link_pattern_matches(cfg->ignore[i], &l->info, false)) {
            l->ignored = true;
            break;
        }
    }
    l->preference = -1;
    for (size_t i = 0; i < cfg->n_prefer && i < MIP_MN_MAX_PATTERNS; i++) {
        if (mip_link_pattern_matches(cfg->prefer[i], &l->info, true)) {
            l->preference = (int)i;
            break;
        }
    }
}
