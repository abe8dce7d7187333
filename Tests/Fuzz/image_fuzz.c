/* libFuzzer target for the PNG/JPEG decoders of Sources/CImageCodecs (setjmp error handling,
 * size limits). Built by `make fuzz-images`; seeds are the committed fixture images. A small
 * max_side/max_bytes keeps each run fast and exercises the limit paths. */
#include "CImageCodecs.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cic_image img;
    char err[256];
    int code = (size >= 1 && data[0] == 0xFF) ? cic_decode_jpeg(data, size, 2048, 1 << 22, &img, err, sizeof err)
                                               : cic_decode_png(data, size, 2048, 1 << 22, &img, err, sizeof err);
    if (code == CIC_OK) {
        volatile uint8_t sink = 0;
        size_t n = (size_t)img.width * (size_t)img.height * (size_t)img.channels;
        for (size_t i = 0; i < n; i += 97) sink ^= img.pixels[i];
        (void)sink;
        cic_free(img.pixels);
    } else if (img.pixels) {
        __builtin_trap(); /* a failed decode must not return pixels */
    }
    return 0;
}
