/* libFuzzer target: mip_ext_parse straight, from any start offset (the first
 * input byte picks it), so the walk is hammered without a valid fixed part. */
#include "extensions.h"

#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MipRegExtensions ext, untouched;

    if (size < 1)
        return 0;
    size_t start = data[0] % (size + 1);   /* may equal size: an empty walk */
    memset(&ext, 0x77, sizeof ext);
    memset(&untouched, 0x77, sizeof untouched);
    MipProtoError err = mip_ext_parse(data, start, size, &ext);
    FUZZ_ASSERT(mip_proto_strerror(err) != NULL);
    FUZZ_ASSERT(mip_ext_parse(data, start, size, NULL) == err);
    if (err != MIP_OK) {
        FUZZ_ASSERT(memcmp(&ext, &untouched, sizeof ext) == 0);
        return 0;
    }
    fuzz_check_extensions(&ext, data, size, start);
    if (start == size)
        FUZZ_ASSERT(ext.count == 0);
    /* A start past the end is refused, never read. */
    FUZZ_ASSERT(mip_ext_parse(data, size + 1, size, &ext) != MIP_OK);
    return 0;
}
