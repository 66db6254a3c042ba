/* The agent solicitation schedule of one link (RFC 5944 §2.4). */
#include "solicit.h"

void mip_solicit_init(MipSolicit *s)
{
    s->active = false;
    s->sent = 0;
    s->next_at = MIP_TIME_NEVER;
    s->last_sent_at = 0;
    s->ever_sent = false;
}

void mip_solicit_start(MipSolicit *s, MipTime now)
{
    if (s->active)
        return;
    s->active = true;
    s->sent = 0;
    s->next_at = now;
    /* A link that flaps must not turn the rapid series into a flood. */
    if (s->ever_sent && s->last_sent_at + MIP_SOLICIT_RAPID_INTERVAL > now)
        s->next_at = s->last_sent_at + MIP_SOLICIT_RAPID_INTERVAL;
}

void mip_solicit_start_fresh(MipSolicit *s, MipTime now)
{
    s->active = true;
    s->sent = 0;
    s->next_at = now;
}

void mip_solicit_stop(MipSolicit *s)
{
    s->active = false;
    s->next_at = MIP_TIME_NEVER;
}

bool mip_solicit_due(const MipSolicit *s, MipTime now)
{
    return s->active && now >= s->next_at;
}

MipTime mip_solicit_interval(unsigned n)
{
    if (n <= MIP_SOLICIT_RAPID)
        return MIP_SOLICIT_RAPID_INTERVAL;
    unsigned shift = n - MIP_SOLICIT_RAPID;
    if (shift >= 7)
        return MIP_SOLICIT_MAX_INTERVAL;
    MipTime gap = MIP_SOLICIT_RAPID_INTERVAL << shift;
    return gap > MIP_SOLICIT_MAX_INTERVAL ? MIP_SOLICIT_MAX_INTERVAL : gap;
}

void mip_solicit_sent(MipSolicit *s, MipTime now)
{
    s->sent++;
    s->ever_sent = true;
    s->last_sent_at = now;
    if (s->active)
        s->next_at = now + mip_solicit_interval(s->sent);
}
