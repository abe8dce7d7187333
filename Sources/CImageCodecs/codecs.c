/*
 * PNG and JPEG codecs for libcontrastive's image-folder loader. libpng and libjpeg report
 * errors by calling an error callback that must not return; their default callbacks print and
 * call exit()/abort(). Here every callback records a message and longjmps back to the setjmp
 * of the call that is running, which frees everything it allocated and returns a code.
 * Values changed between setjmp and a possible longjmp live in `volatile` storage.
 */
#include "CImageCodecs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

static void set_err(char *err, size_t cap, const char *fmt, ...) {
    if (!err || cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

void cic_free(void *p) { free(p); }

/* ---------------------------------------------------------------------------------------- */
/* PNG                                                                                        */
/* ---------------------------------------------------------------------------------------- */

typedef struct png_ctx {
    jmp_buf jmp;
    char *err;
    size_t errcap;
    const uint8_t *data;
    size_t size, pos;
    volatile int code;
    uint8_t *volatile pixels;
    png_bytep *volatile rows;
    /* encoder output */
    uint8_t *volatile out;
    volatile size_t out_size, out_cap;
} png_ctx;

static void png_fail(png_ctx *c, int code, const char *msg) {
    c->code = code;
    set_err(c->err, c->errcap, "PNG: %s", msg);
    longjmp(c->jmp, 1);
}

static void png_error_cb(png_structp png, png_const_charp msg) {
    png_ctx *c = (png_ctx *)png_get_error_ptr(png);
    png_fail(c, CIC_CORRUPT, msg ? msg : "error");
}

static void png_warning_cb(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg; /* warnings (e.g. a bad ancillary chunk CRC, the chunk is discarded) are silent */
}

static void png_read_cb(png_structp png, png_bytep out, size_t n) {
    png_ctx *c = (png_ctx *)png_get_io_ptr(png);
    if (n > c->size - c->pos) png_fail(c, CIC_CORRUPT, "truncated data");
    memcpy(out, c->data + c->pos, n);
    c->pos += n;
}

int cic_decode_png(const uint8_t *data, size_t size, int32_t max_side, size_t max_bytes,
                   cic_image *out, char *err, size_t err_capacity) {
    if (err && err_capacity) err[0] = 0;
    if (!out) { set_err(err, err_capacity, "out is NULL"); return CIC_INVALID; }
    memset(out, 0, sizeof *out);
    if (!data && size > 0) { set_err(err, err_capacity, "data is NULL"); return CIC_INVALID; }
    if (max_side < 1) { set_err(err, err_capacity, "max_side < 1"); return CIC_INVALID; }
    if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        set_err(err, err_capacity, "PNG: not a PNG file (bad signature)");
        return CIC_CORRUPT;
    }
    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.err = err;
    ctx.errcap = err_capacity;
    ctx.data = data;
    ctx.size = size;
    ctx.code = CIC_CORRUPT;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_cb, png_warning_cb);
    if (!png) { set_err(err, err_capacity, "PNG: out of memory"); return CIC_NO_MEMORY; }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        set_err(err, err_capacity, "PNG: out of memory");
        return CIC_NO_MEMORY;
    }
    if (setjmp(ctx.jmp)) {
        free(ctx.pixels);
        free(ctx.rows);
        png_destroy_read_struct(&png, &info, NULL);
        return ctx.code;
    }
    png_set_read_fn(png, &ctx, png_read_cb);
    /* libpng's own limit (1e6 per side) stays; max_side is checked below with a clear message. */
    png_set_chunk_malloc_max(png, 8u << 20); /* ancillary chunks (iCCP, zTXt, ...) */
    png_read_info(png, info);

    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), type = png_get_color_type(png, info);
    if (w < 1 || h < 1) png_fail(&ctx, CIC_CORRUPT, "empty image");
    if (w > (png_uint_32)max_side || h > (png_uint_32)max_side) {
        char m[96];
        snprintf(m, sizeof m, "%ux%u image is larger than %d pixels per side", (unsigned)w, (unsigned)h, (int)max_side);
        png_fail(&ctx, CIC_TOO_LARGE, m);
    }
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_strip_16(png);
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (channels < 1 || channels > 4 || png_get_bit_depth(png, info) != 8 || rowbytes != (size_t)w * (size_t)channels)
        png_fail(&ctx, CIC_CORRUPT, "unsupported pixel layout");
    /* w, h <= max_side <= 2^31 and channels <= 4: no overflow in 64-bit size_t. */
    size_t bytes = rowbytes * (size_t)h;
    if (bytes > max_bytes) {
        char m[128];
        snprintf(m, sizeof m, "%ux%ux%d image decodes to %zu bytes, more than the %zu allowed",
                 (unsigned)w, (unsigned)h, channels, bytes, max_bytes);
        png_fail(&ctx, CIC_TOO_LARGE, m);
    }
    ctx.pixels = (uint8_t *)malloc(bytes);
    ctx.rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)h);
    if (!ctx.pixels || !ctx.rows) png_fail(&ctx, CIC_NO_MEMORY, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) ctx.rows[y] = ctx.pixels + (size_t)y * rowbytes;
    png_read_image(png, ctx.rows);
    png_read_end(png, NULL); /* through IEND: a file cut after the image data is an error too */

    out->pixels = ctx.pixels;
    out->width = (int32_t)w;
    out->height = (int32_t)h;
    out->channels = channels;
    free(ctx.rows);
    png_destroy_read_struct(&png, &info, NULL);
    return CIC_OK;
}

static void png_write_cb(png_structp png, png_bytep src, size_t n) {
    png_ctx *c = (png_ctx *)png_get_io_ptr(png);
    if (n > c->out_cap - c->out_size) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap - c->out_size < n) {
            if (cap > ((size_t)-1) / 2) png_fail(c, CIC_NO_MEMORY, "output too large");
            cap *= 2;
        }
        uint8_t *p = (uint8_t *)realloc(c->out, cap);
        if (!p) png_fail(c, CIC_NO_MEMORY, "out of memory");
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_size, src, n);
    c->out_size += n;
}

static void png_flush_cb(png_structp png) { (void)png; }

int cic_encode_png(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                   uint8_t **out, size_t *out_size, char *err, size_t err_capacity) {
    if (err && err_capacity) err[0] = 0;
    if (!pixels || !out || !out_size || width < 1 || height < 1 || width > (1 << 24) || height > (1 << 24) ||
        channels < 1 || channels > 4) {
        set_err(err, err_capacity, "PNG: invalid arguments");
        return CIC_INVALID;
    }
    *out = NULL;
    *out_size = 0;
    static const int types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                 PNG_COLOR_TYPE_RGB_ALPHA};
    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.err = err;
    ctx.errcap = err_capacity;
    ctx.code = CIC_CORRUPT;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_error_cb, png_warning_cb);
    if (!png) { set_err(err, err_capacity, "PNG: out of memory"); return CIC_NO_MEMORY; }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        set_err(err, err_capacity, "PNG: out of memory");
        return CIC_NO_MEMORY;
    }
    if (setjmp(ctx.jmp)) {
        free(ctx.out);
        png_destroy_write_struct(&png, &info);
        return ctx.code;
    }
    png_set_write_fn(png, &ctx, png_write_cb, png_flush_cb);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, types[channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (int32_t y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * stride));
    png_write_end(png, NULL);
    *out = ctx.out;
    *out_size = ctx.out_size;
    png_destroy_write_struct(&png, &info);
    return CIC_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* JPEG                                                                                       */
/* ---------------------------------------------------------------------------------------- */

typedef struct jpeg_ctx {
    struct jpeg_error_mgr pub; /* first: libjpeg sees a jpeg_error_mgr */
    struct jpeg_progress_mgr progress;
    jmp_buf jmp;
    char *err;
    size_t errcap;
    volatile int code;
} jpeg_ctx;

/** Most scans accepted in a progressive JPEG (a file of thousands of tiny scans is a known
 *  denial of service; real encoders write about 10). */
#define CIC_JPEG_MAX_SCANS 1000

static void jpeg_fail_msg(j_common_ptr cinfo, int code, const char *msg) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    c->code = code;
    set_err(c->err, c->errcap, "JPEG: %s", msg);
    longjmp(c->jmp, 1);
}

static void jpeg_error_exit_cb(j_common_ptr cinfo) {
    char buf[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buf);
    int code = cinfo->err->msg_code == JERR_OUT_OF_MEMORY ? CIC_NO_MEMORY : CIC_CORRUPT;
    jpeg_fail_msg(cinfo, code, buf);
}

static void jpeg_emit_message_cb(j_common_ptr cinfo, int level) {
    if (level < 0) { /* a warning: corrupt or truncated data — strict: an error */
        char buf[JMSG_LENGTH_MAX];
        (*cinfo->err->format_message)(cinfo, buf);
        jpeg_fail_msg(cinfo, CIC_CORRUPT, buf);
    }
}

static void jpeg_output_message_cb(j_common_ptr cinfo) { (void)cinfo; }

static void jpeg_progress_cb(j_common_ptr cinfo) {
    if (cinfo->is_decompressor && ((j_decompress_ptr)cinfo)->input_scan_number > CIC_JPEG_MAX_SCANS)
        jpeg_fail_msg(cinfo, CIC_CORRUPT, "more than 1000 scans");
}

static void jpeg_install(jpeg_ctx *c, j_common_ptr cinfo, char *err, size_t cap) {
    memset(c, 0, sizeof *c);
    cinfo->err = jpeg_std_error(&c->pub);
    c->pub.error_exit = jpeg_error_exit_cb;
    c->pub.emit_message = jpeg_emit_message_cb;
    c->pub.output_message = jpeg_output_message_cb;
    c->err = err;
    c->errcap = cap;
    c->code = CIC_CORRUPT;
}

int cic_decode_jpeg(const uint8_t *data, size_t size, int32_t max_side, size_t max_bytes,
                    cic_image *out, char *err, size_t err_capacity) {
    if (err && err_capacity) err[0] = 0;
    if (!out) { set_err(err, err_capacity, "out is NULL"); return CIC_INVALID; }
    memset(out, 0, sizeof *out);
    if (!data && size > 0) { set_err(err, err_capacity, "data is NULL"); return CIC_INVALID; }
    if (max_side < 1) { set_err(err, err_capacity, "max_side < 1"); return CIC_INVALID; }
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
        set_err(err, err_capacity, "JPEG: not a JPEG file (bad signature)");
        return CIC_CORRUPT;
    }
    if (size > (size_t)(unsigned long)-1) { set_err(err, err_capacity, "JPEG: file too large"); return CIC_TOO_LARGE; }
    struct jpeg_decompress_struct cinfo;
    memset(&cinfo, 0, sizeof cinfo);
    jpeg_ctx ctx;
    jpeg_install(&ctx, (j_common_ptr)&cinfo, err, err_capacity);
    uint8_t *volatile pixels = NULL;
    if (setjmp(ctx.jmp)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return ctx.code;
    }
    jpeg_create_decompress(&cinfo);
    ctx.progress.progress_monitor = jpeg_progress_cb;
    cinfo.progress = &ctx.progress;
    jpeg_mem_src(&cinfo, (unsigned char *)(uintptr_t)data, (unsigned long)size);
    (void)jpeg_read_header(&cinfo, TRUE);
    JDIMENSION w = cinfo.image_width, h = cinfo.image_height;
    if (w < 1 || h < 1) jpeg_fail_msg((j_common_ptr)&cinfo, CIC_CORRUPT, "empty image");
    if (w > (JDIMENSION)max_side || h > (JDIMENSION)max_side) {
        char m[96];
        snprintf(m, sizeof m, "%ux%u image is larger than %d pixels per side", (unsigned)w, (unsigned)h, (int)max_side);
        jpeg_fail_msg((j_common_ptr)&cinfo, CIC_TOO_LARGE, m);
    }
    int channels;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; channels = 1; break;
    case JCS_YCbCr:
    case JCS_RGB: cinfo.out_color_space = JCS_RGB; channels = 3; break;
    case JCS_CMYK:
    case JCS_YCCK: jpeg_fail_msg((j_common_ptr)&cinfo, CIC_CORRUPT, "CMYK/YCCK JPEG is not supported"); return CIC_CORRUPT;
    default: jpeg_fail_msg((j_common_ptr)&cinfo, CIC_CORRUPT, "unsupported colour space"); return CIC_CORRUPT;
    }
    size_t bytes = (size_t)w * (size_t)h * (size_t)channels;
    if (bytes > max_bytes) {
        char m[128];
        snprintf(m, sizeof m, "%ux%ux%d image decodes to %zu bytes, more than the %zu allowed",
                 (unsigned)w, (unsigned)h, channels, bytes, max_bytes);
        jpeg_fail_msg((j_common_ptr)&cinfo, CIC_TOO_LARGE, m);
    }
    /* Bounds libjpeg's own buffers (a progressive file keeps every coefficient: 2 bytes per
     * sample per component, so a few times the decoded size). */
    cinfo.mem->max_memory_to_use = (long)(bytes < (size_t)1 << 36 ? bytes * 4 + (64u << 20) : bytes);
    (void)jpeg_start_decompress(&cinfo);
    if ((int)cinfo.output_components != channels || cinfo.output_width != w || cinfo.output_height != h)
        jpeg_fail_msg((j_common_ptr)&cinfo, CIC_CORRUPT, "unexpected output layout");
    pixels = (uint8_t *)malloc(bytes);
    if (!pixels) jpeg_fail_msg((j_common_ptr)&cinfo, CIC_NO_MEMORY, "out of memory");
    size_t stride = (size_t)w * (size_t)channels;
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * stride;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1)
            jpeg_fail_msg((j_common_ptr)&cinfo, CIC_CORRUPT, "truncated data");
    }
    (void)jpeg_finish_decompress(&cinfo); /* to EOI: a missing end is a warning, so an error */
    jpeg_destroy_decompress(&cinfo);
    out->pixels = pixels;
    out->width = (int32_t)w;
    out->height = (int32_t)h;
    out->channels = channels;
    return CIC_OK;
}

int cic_encode_jpeg(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                    int32_t quality, uint8_t **out, size_t *out_size, char *err, size_t err_capacity) {
    if (err && err_capacity) err[0] = 0;
    if (!pixels || !out || !out_size || width < 1 || height < 1 || width > 65500 || height > 65500 ||
        (channels != 1 && channels != 3) || quality < 1 || quality > 100) {
        set_err(err, err_capacity, "JPEG: invalid arguments");
        return CIC_INVALID;
    }
    *out = NULL;
    *out_size = 0;
    struct jpeg_compress_struct cinfo;
    memset(&cinfo, 0, sizeof cinfo);
    jpeg_ctx ctx;
    jpeg_install(&ctx, (j_common_ptr)&cinfo, err, err_capacity);
    unsigned char *volatile buf = NULL;
    volatile unsigned long buf_size = 0;
    if (setjmp(ctx.jmp)) {
        /* Not free(buf): jpeg_mem_dest reallocates its buffer internally and publishes it only
         * at the end, so `buf` may already be freed. Arguments are validated above, so this
         * path means out of memory; the buffer is leaked rather than freed twice. */
        jpeg_destroy_compress(&cinfo);
        return ctx.code;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buf, (unsigned long *)&buf_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(uintptr_t)(pixels + (size_t)cinfo.next_scanline * stride);
        (void)jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = buf;
    *out_size = buf_size;
    return CIC_OK;
}
