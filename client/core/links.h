/* The links the link plugins reported, with what the configuration says about
 * them (ignored, preference rank) and each one's solicitation schedule. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "link.h"
#include "mn.h"
#include "solicit.h"

enum { MIP_LINK_TABLE_MAX = 32 };

typedef struct MipLinkEntry {
    MipLinkInfo info;
    bool ignored;
    int preference; /* index of the first prefer[] entry that matches, -1 none */
    MipSolicit solicit;
    MipTime usable_since;  /* when it last became usable */
    MipTime address_since; /* when its address last changed */
    /* The network it was last usable on, to tell a move from a flap. */
    bool has_network;
    uint32_t network;
    uint8_t network_len;
} MipLinkEntry;

typedef struct MipLinkTable {
    MipLinkEntry links[MIP_LINK_TABLE_MAX];
    size_t n;
} MipLinkTable;

void mip_links_init(MipLinkTable *t);
MipLinkEntry *mip_links_find(MipLinkTable *t, int ifindex);
MipLinkEntry *mip_links_find_name(MipLinkTable *t, const char *name);
/* Adds a zeroed entry for ifindex; NULL when the table is full. */
MipLinkEntry *mip_links_add(MipLinkTable *t, int ifindex);
void mip_links_remove(MipLinkTable *t, int ifindex);

/* Carrier, active and not ignored. */
bool mip_link_usable(const MipLinkEntry *l);

/* "ethernet", "wifi", "wwan", "unknown". */

/* Recomputes ignored and preference from the configuration's patterns. */
void mip_link_classify(MipLinkEntry *l, const MipMnConfig *cfg);

/* A prefer[] entry matches a link when it names the link's type or is an
 * fnmatch(3) pattern matching its name. */
bool mip_link_pattern_matches(const char *pattern, const MipLinkInfo *info, bool by_type);
