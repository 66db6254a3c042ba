/* libFuzzer target: mip_solicit_decode accepts exactly ICMP type 10, code 0,
 * at least 8 octets, with a checksum that verifies. */
#include "advert.h"
#include "checksum.h"

#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MipProtoError err = mip_solicit_decode(data, size);
    bool valid = size >= 8 && data[0] == MIP_ICMP_ROUTER_SOLICIT && data[1] == 0 &&
                 mip_inet_checksum(data, size) == 0;

    FUZZ_ASSERT(mip_proto_strerror(err) != NULL);
    FUZZ_ASSERT((err == MIP_OK) == valid);
    return 0;
}
