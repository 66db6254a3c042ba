/* The agent solicitation schedule of one link (RFC 5944 §2.4): one at once,
 * three more a second apart, then binary exponential backoff to a cap of at
 * least a minute. Pure timing: the caller sends. */
#pragma once

#include <stdbool.h>

#include "mn.h"

enum {
    MIP_SOLICIT_RAPID = 3, /* after the first: this many at 1 s */
};
#define MIP_SOLICIT_RAPID_INTERVAL (1 * MIP_TIME_S)
/* RFC 5944 §2.4 wants the backed-off interval to reach at least one minute;
 * doubling from 1 s first passes 60 s at 64 s. */
#define MIP_SOLICIT_MAX_INTERVAL (64 * MIP_TIME_S)

typedef struct MipSolicit {
    bool active;
    unsigned sent;        /* solicitations in the current schedule */
    MipTime next_at;      /* MIP_TIME_NEVER when inactive */
    MipTime last_sent_at; /* across schedules, for the 1 s floor; 0 = never */
    bool ever_sent;
} MipSolicit;

void mip_solicit_init(MipSolicit *s);
/* Starts a schedule unless one runs: the first solicitation is due at once,
 * but never sooner than 1 s after the previous one (of any schedule). */
void mip_solicit_start(MipSolicit *s, MipTime now);
/* Starts a new search at once, whatever the previous schedule did: the link
 * is on another network, where nobody has heard our solicitations yet. */
void mip_solicit_start_fresh(MipSolicit *s, MipTime now);
/* Stops (an agent was heard, or the link went away). */
void mip_solicit_stop(MipSolicit *s);
bool mip_solicit_due(const MipSolicit *s, MipTime now);
/* Records a solicitation sent at now and schedules the next. */
void mip_solicit_sent(MipSolicit *s, MipTime now);
/* The gap that follows the n-th solicitation of a schedule (n >= 1). */
MipTime mip_solicit_interval(unsigned n);
