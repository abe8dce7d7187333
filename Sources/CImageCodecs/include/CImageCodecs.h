/*
 * CImageCodecs — PNG (libpng) and JPEG (libjpeg-turbo) decoding and encoding that never exits,
 * aborts or prints: both libraries report errors by longjmp from their error callbacks, and
 * their default handlers print and call exit()/abort(). Every function here installs its own
 * handlers, catches the longjmp with setjmp, frees what it allocated and returns a code plus
 * a message. Internal to libcontrastive (not exported: the .so exports ctr_* only).
 */
#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Result codes. */
enum {
    CIC_OK = 0,
    CIC_CORRUPT = 1,      /**< malformed, truncated or unsupported data */
    CIC_TOO_LARGE = 2,    /**< dimensions or decoded size above the caller's limits */
    CIC_NO_MEMORY = 3,    /**< an allocation failed */
    CIC_INVALID = 4       /**< bad argument */
};

/** A decoded image: height x width x channels bytes, interleaved, malloc'd (free with
 *  cic_free). channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
typedef struct cic_image {
    uint8_t *pixels;
    int32_t width, height, channels;
} cic_image;

/** Decode a PNG held in memory (any bit depth, palette, interlace; 16-bit is reduced to 8).
 *  Images wider or taller than max_side, or whose decoded size exceeds max_bytes, give
 *  CIC_TOO_LARGE before any pixel buffer is allocated. On failure *out is zeroed and err
 *  (if not NULL) receives a NUL-terminated message of at most err_capacity bytes. */
int cic_decode_png(const uint8_t *data, size_t size, int32_t max_side, size_t max_bytes,
                   cic_image *out, char *err, size_t err_capacity);

/** Decode a baseline or progressive JPEG (grey, YCbCr/RGB; CMYK is refused) held in memory.
 *  Warnings (premature end of data, corrupt entropy data, ...) are errors. Limits and
 *  failure behaviour as cic_decode_png. */
int cic_decode_jpeg(const uint8_t *data, size_t size, int32_t max_side, size_t max_bytes,
                    cic_image *out, char *err, size_t err_capacity);

/** Encode width x height x channels (1, 2, 3 or 4) bytes as PNG into a malloc'd buffer
 *  (*out, *out_size; free with cic_free). */
int cic_encode_png(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                   uint8_t **out, size_t *out_size, char *err, size_t err_capacity);

/** Encode width x height x channels (1 or 3) bytes as a baseline JPEG of `quality` (1..100)
 *  into a malloc'd buffer (*out, *out_size; free with cic_free). */
int cic_encode_jpeg(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                    int32_t quality, uint8_t **out, size_t *out_size, char *err, size_t err_capacity);

/** free() for buffers returned above. NULL is a no-op. */
void cic_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
