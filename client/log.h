/* Logging: one line per event to stderr (with time and level when it is a
 * terminal or a file) or to the journal when stderr is connected to it. */
#pragma once

#include <stdbool.h>

void mip_log_setup(bool debug);
