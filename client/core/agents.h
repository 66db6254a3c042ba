/* The table of mobility agents heard on each link: what their advertisements
 * said, when they expire, and the movement rules that compare them (reboot by
 * sequence number, move by network prefix; RFC 5944 §2.4.2-2.4.3). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../proto/advert.h"
#include "mn.h"

enum {
    MIP_AGENT_TABLE_MAX = 32,
    MIP_AGENT_CHALLENGE_MAX = 255,
    /* Sequence numbers 0-255 are used only after an agent boots; after
     * 0xffff the sequence wraps to 256 (RFC 5944 §2.1.1). */
    MIP_AGENT_SEQ_BOOT_LIMIT = 256,
};

typedef struct MipAgent {
    int ifindex;
    uint32_t address; /* source of its advertisements */
    uint16_t flags;
    uint16_t sequence;
    uint16_t reg_lifetime;
    uint16_t adv_lifetime;
    uint32_t coa[MIP_MN_AGENT_MAX_COA];
    size_t n_coa;
    int prefix_len;   /* extension 19, first entry; -1 if absent */
    uint32_t network; /* first router address (or source) & mask, if prefix_len >= 0 */
    uint8_t challenge[MIP_AGENT_CHALLENGE_MAX];
    size_t challenge_len; /* 0: the agent sent no challenge */
    MipTime first_seen;
    MipTime last_seen;
    MipTime expires_at;
} MipAgent;

typedef struct MipAgentTable {
    MipAgent agents[MIP_AGENT_TABLE_MAX];
    size_t n;
} MipAgentTable;

typedef enum MipAgentUpdate {
    MIP_AGENT_NEW,
    MIP_AGENT_REFRESHED,
    MIP_AGENT_REBOOTED, /* sequence fell below 256 */
} MipAgentUpdate;

void mip_agents_init(MipAgentTable *t);

/* Records an advertisement (has_mobility must be set) from src on ifindex.
 * A full table forgets its least recently heard agent. *out (if out) points
 * at the entry until the table next changes. */
MipAgentUpdate mip_agents_update(MipAgentTable *t, int ifindex, uint32_t src,
                                 const MipAgentAdvert *adv, MipTime now, MipAgent **out);

MipAgent *mip_agents_find(MipAgentTable *t, int ifindex, uint32_t address);

/* Removes one agent whose advertisement lifetime has run out by now, copying
 * it to *out; false when none is left. */
bool mip_agents_pop_expired(MipAgentTable *t, MipTime now, MipAgent *out);

void mip_agents_remove(MipAgentTable *t, int ifindex, uint32_t address);
/* Forgets every agent of a link; returns how many. */
size_t mip_agents_remove_link(MipAgentTable *t, int ifindex);

MipTime mip_agents_next_expiry(const MipAgentTable *t);

/* True when an advertisement with sequence new_seq, following one with
 * old_seq, shows the agent rebooted: the value is in the boot range and went
 * backwards. 0xffff -> 256 is the normal wrap and is not a reboot. */
bool mip_agent_seq_rebooted(uint16_t old_seq, uint16_t new_seq);

/* RFC 5944 §2.4.2 method 2: both agents advertise prefix lengths and their
 * networks differ, so hearing `heard` means we left `current`'s network. */
bool mip_agent_prefix_moved(const MipAgent *current, const MipAgent *heard);

/* Mask of a prefix length 0..32. */
uint32_t mip_prefix_mask(unsigned prefix_len);
