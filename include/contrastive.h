/*
 * contrastive.h — the C API of libcontrastive.
 *
 * libcontrastive trains and evaluates image encoders by self-supervised contrastive learning
 * (SimCLR, MoCo, BYOL, SwAV, ...) on the CPU. This header is the whole contract: everything
 * the library exports is declared here, and nothing else is exported.
 *
 * ------------------------------------------------------------------------------------------
 * CONVENTIONS (every part of the API follows them)
 *
 * Names      Functions and types start with `ctr_`, macros and enum values with `CTR_`.
 *            Functions are named ctr_<object>_<action>.
 *
 * Status     Every call that can fail returns a ctr_status. CTR_STATUS_OK (0) is success.
 *            On failure a human-readable message is available from ctr_last_error() on the
 *            same thread until the next failing call on that thread. A failed call leaves
 *            its handle and the caller's buffers as they were unless its documentation says
 *            otherwise. New status values may be appended; existing ones never change.
 *
 * Handles    Objects are opaque: `typedef struct ctr_x ctr_x;`. They are made by
 *            ctr_x_create(..., ctr_x **out) and released by ctr_x_free(x);
 *            ctr_x_free(NULL) does nothing. A handle may be used from any thread, but from
 *            one thread at a time unless a function says otherwise; different handles may be
 *            used concurrently.
 *
 * Options    Constructors take a pointer to an options struct whose first field is
 *            `uint32_t struct_size`. Fill it with ctr_x_options_default(&opts) (which sets
 *            struct_size = sizeof(opts)) and change what you need. The library reads only
 *            the first struct_size bytes, so fields appended in later versions never break
 *            callers compiled against an older header.
 *
 * Arrays     Arrays cross as a pointer plus an explicit shape. Inputs are only read during
 *            the call (never retained). Outputs go into caller-owned buffers whose capacity
 *            is passed in; when it is too small the call returns CTR_STATUS_BUFFER_TOO_SMALL
 *            and, where a size pointer is given, stores the size needed. Images are uint8
 *            H×W×C (interleaved) or float32 N×C×H×W; matrices are row-major.
 *
 * Strings    Strings returned by the library are NUL-terminated UTF-8 owned by the library:
 *            static ones live forever, ctr_last_error() until the next failing call on the
 *            calling thread. Never free them.
 *
 * Threads    ctr_set_num_threads() sets how many threads the library uses for its own
 *            parallel loops and for OpenBLAS. For a fixed seed and thread count, results are
 *            bit-identical from run to run.
 *
 * Callbacks  Callbacks receive the `void *user_data` registered with them. They may be
 *            called from library threads and must not call back into the library unless
 *            documented.
 *
 * ABI        CTR_ABI_VERSION changes whenever a declaration here changes incompatibly;
 *            compare it with ctr_abi_version() at start-up (the Python binding does).
 * ------------------------------------------------------------------------------------------
 */
#ifndef CONTRASTIVE_H
#define CONTRASTIVE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the ABI described by this header. */
#define CTR_ABI_VERSION 1

/* ======================================================================================== */
/* Status and errors                                                                         */
/* ======================================================================================== */

/** Result of a fallible call (an int32_t; values are append-only). */
typedef int32_t ctr_status;

enum {
    CTR_STATUS_OK = 0,               /**< success */
    CTR_STATUS_INVALID_ARGUMENT = 1, /**< NULL pointer, out-of-range value, bad option */
    CTR_STATUS_SHAPE_MISMATCH = 2,   /**< array shapes do not fit together */
    CTR_STATUS_IO = 3,               /**< a file could not be opened, read or written */
    CTR_STATUS_FORMAT = 4,           /**< a file or description is malformed or unsupported */
    CTR_STATUS_OUT_OF_MEMORY = 5,    /**< an allocation failed or a size is too large */
    CTR_STATUS_NUMERIC = 6,          /**< NaN or Inf where a finite value is required */
    CTR_STATUS_CANCELLED = 7,        /**< a callback asked to stop */
    CTR_STATUS_BUFFER_TOO_SMALL = 8, /**< a caller buffer is too small (size reported) */
    CTR_STATUS_UNSUPPORTED = 9,      /**< valid, but not supported by this build */
    CTR_STATUS_INTERNAL = 10         /**< a bug in the library; please report it */
};

/** Static English text for a status ("ok", "invalid argument", ...). Never NULL; unknown
 *  values give "unknown status". */
const char *ctr_status_string(ctr_status status);

/** Message of the last failing call on the calling thread ("" if none). Never NULL. The text
 *  stays valid until the next failing call on this thread. Successful calls do not clear it;
 *  a size query answered with CTR_STATUS_BUFFER_TOO_SMALL counts as a failing call. */
const char *ctr_last_error(void);

/** Clear the calling thread's last error message (ctr_last_error() then returns ""). */
void ctr_clear_error(void);

/* ======================================================================================== */
/* Library information                                                                       */
/* ======================================================================================== */

/** The library's ABI version; equals CTR_ABI_VERSION of the header it was built with. */
uint32_t ctr_abi_version(void);

/** Library version, "MAJOR.MINOR.PATCH". Static string. */
const char *ctr_version_string(void);

/** A description of the build and runtime (version, ABI, threads, BLAS, CPU target) as
 *  "key=value" lines, written NUL-terminated into buf.
 *  @param buf       destination, may be NULL when capacity is 0 (size query)
 *  @param capacity  bytes available in buf
 *  @param needed    if not NULL, receives the bytes needed including the NUL (set on OK and
 *                   on BUFFER_TOO_SMALL, untouched on INVALID_ARGUMENT)
 *  @return CTR_STATUS_OK, CTR_STATUS_BUFFER_TOO_SMALL (buf untouched, *needed set), or
 *          CTR_STATUS_INVALID_ARGUMENT (buf NULL with capacity > 0). */
ctr_status ctr_build_info(char *buf, size_t capacity, size_t *needed);

/* ======================================================================================== */
/* Threads                                                                                   */
/* ======================================================================================== */

/** Set the number of threads used by the library's loops and by OpenBLAS, process-wide.
 *  @param n  1..256, or 0 for the number of online CPUs.
 *  The default is the CTR_NUM_THREADS environment variable when it is a number >= 1, else
 *  the number of online CPUs. OpenBLAS may cap its own share (this build: 64).
 *  Do not call while another thread is inside the library.
 *  @return CTR_STATUS_OK or CTR_STATUS_INVALID_ARGUMENT (n < 0 or n > 256). */
ctr_status ctr_set_num_threads(int32_t n);

/** The thread count in effect (>= 1). */
int32_t ctr_get_num_threads(void);

/* ======================================================================================== */
/* Logging                                                                                   */
/* ======================================================================================== */

/** Severity of a log message. */
typedef enum ctr_log_level {
    CTR_LOG_DEBUG = 0,
    CTR_LOG_INFO = 1,
    CTR_LOG_WARN = 2,
    CTR_LOG_ERROR = 3
} ctr_log_level;

/** Receives one log message (NUL-terminated, no trailing newline, valid during the call).
 *  May be called from any library thread, never concurrently with itself. Must not call
 *  into the library. */
typedef void (*ctr_log_fn)(int32_t level, const char *message, void *user_data);

/** Route log messages at or above the current level to fn(level, message, user_data).
 *  fn == NULL restores the default: messages go to stderr. Thread-safe. */
void ctr_log_set(ctr_log_fn fn, void *user_data);

/** Set the minimum level delivered (default CTR_LOG_WARN). Thread-safe.
 *  @return CTR_STATUS_OK or CTR_STATUS_INVALID_ARGUMENT for a level outside the enum. */
ctr_status ctr_log_set_level(int32_t level);

/* ======================================================================================== */
/* Models: backbones, projection heads, checkpoints, embeddings                             */
/* ======================================================================================== */

/** A backbone (ResNet or ConvNet) with an optional MLP projection head. Parameters live in
 *  one flat block; checkpoints are safetensors files whose backbone tensors carry
 *  torchvision's state_dict names (conv1.weight, bn1.running_var, layer1.0.downsample.0.weight,
 *  ...) and whose head tensors are named like an nn.Sequential under "projector." — so a
 *  checkpoint loads into torchvision.models.resnet18() with fc = nn.Identity().
 *  Thread safety: one model may be used by one thread at a time; different models may be
 *  used concurrently. */
typedef struct ctr_model ctr_model;

/** Backbone architectures (ctr_model_options.arch). */
typedef enum ctr_arch {
    CTR_ARCH_RESNET18 = 18,
    CTR_ARCH_RESNET34 = 34,
    CTR_ARCH_RESNET50 = 50,
    CTR_ARCH_RESNET101 = 101,
    CTR_ARCH_RESNET152 = 152,
    CTR_ARCH_CONVNET = 1     /**< stages of 3x3 conv-BN-ReLU-maxpool(2), then global pooling */
} ctr_arch;

/** ResNet stems (ctr_model_options.stem). */
typedef enum ctr_stem {
    CTR_STEM_IMAGENET = 0,   /**< 7x7/2 convolution + 3x3/2 max-pool */
    CTR_STEM_CIFAR = 1       /**< 3x3/1 convolution (padding 1), no max-pool */
} ctr_stem;

/** Most ConvNet stages accepted. */
#define CTR_CONVNET_MAX_STAGES 16

/** Options for ctr_model_create. Fill with ctr_model_options_default(). */
typedef struct ctr_model_options {
    uint32_t struct_size;       /**< sizeof(ctr_model_options), set by the default function */
    int32_t arch;               /**< ctr_arch (default CTR_ARCH_RESNET18) */
    int32_t stem;               /**< ctr_stem for ResNets (default CTR_STEM_IMAGENET) */
    int32_t in_channels;        /**< image channels, 1..4096 (default 3) */
    float width;                /**< ResNet channel multiplier, 1/16..16 (default 1) */
    int32_t zero_init_residual; /**< 1: zero the last BN gamma of each residual branch (default 0) */
    int32_t convnet_stages;     /**< ConvNet: number of stages, 1..CTR_CONVNET_MAX_STAGES (default 4) */
    int32_t convnet_channels[CTR_CONVNET_MAX_STAGES]; /**< ConvNet channels (default 32,64,128,256) */
    int32_t head_layers;        /**< projection head Linear layers, 0 = no head (default 0) */
    int32_t head_hidden;        /**< hidden width (default 2048) */
    int32_t head_out;           /**< output width (default 128) */
    int32_t head_batch_norm;    /**< 1: BN after each hidden Linear (BYOL/SimSiam/SwAV) (default 0) */
    int32_t head_last_batch_norm; /**< 1: BN after the final Linear too (default 0) */
    uint64_t seed;              /**< initialisation seed (torchvision's schemes; default 0) */
} ctr_model_options;

/** Fill *opts with the defaults above (sets struct_size). NULL is ignored. */
void ctr_model_options_default(ctr_model_options *opts);

/** Create a model with freshly initialised weights, in eval mode.
 *  @param opts  options, or NULL for the defaults (ResNet-18, ImageNet stem, 3 channels)
 *  @param out   receives the handle; set to NULL on failure
 *  @return OK, INVALID_ARGUMENT (NULL out, bad option — the message names it), OUT_OF_MEMORY */
ctr_status ctr_model_create(const ctr_model_options *opts, ctr_model **out);

/** Release a model. NULL is a no-op. */
void ctr_model_free(ctr_model *model);

/** Switch between training mode (1: batch statistics in batch norm; embedding then updates the
 *  running statistics, as in PyTorch, and needs at least 2 images per call) and eval mode (0,
 *  the default: running statistics).
 *  @return OK, INVALID_ARGUMENT (NULL model, training not 0 or 1) */
ctr_status ctr_model_set_training(ctr_model *model, int32_t training);

/** Which features to return. */
typedef enum ctr_embed_output {
    CTR_EMBED_BACKBONE = 0,   /**< pooled backbone features (512 for ResNet-18, 2048 for -50) */
    CTR_EMBED_PROJECTOR = 1   /**< the projection head's output (needs a head) */
} ctr_embed_output;

/** Dimension of the features returned for `output`, in *dim.
 *  @return OK, INVALID_ARGUMENT (NULL pointer, unknown output, or no head for PROJECTOR) */
ctr_status ctr_model_output_dim(const ctr_model *model, int32_t output, int32_t *dim);

/** Number of trainable parameters (*count) and of buffer values such as BN running
 *  statistics (*buffers); either pointer may be NULL.
 *  @return OK, INVALID_ARGUMENT (NULL model) */
ctr_status ctr_model_num_params(const ctr_model *model, int64_t *count, int64_t *buffers);

/** Save all weights and buffers as a safetensors file, atomically (a temporary file, fsync,
 *  rename): on failure an existing file at `path` is left intact.
 *  @return OK, INVALID_ARGUMENT (NULL), IO (the message says what failed) */
ctr_status ctr_model_save(const ctr_model *model, const char *path);

/** Load weights from a safetensors file (ours or a torchvision state_dict saved with
 *  safetensors). Tensors are converted to float32 from F32, F64, F16, BF16, I64, I32 or U8
 *  (num_batches_tracked is stored as I64; it is held as a float, exact up to 2^24 steps).
 *  Everything is validated before anything is copied: on failure the model is unchanged.
 *  @param strict  1: tensors the model does not have are an error; 0: they are ignored
 *  @return OK, INVALID_ARGUMENT, IO (cannot read), FORMAT (malformed file, or a checkpoint of
 *          another architecture: the message names each missing, unexpected or mis-shaped
 *          tensor), NUMERIC (a NaN or Inf value) */
ctr_status ctr_model_load(ctr_model *model, const char *path, int32_t strict);

/** Options for the embed calls. Fill with ctr_embed_options_default(). */
typedef struct ctr_embed_options {
    uint32_t struct_size;
    int32_t output;           /**< ctr_embed_output (default CTR_EMBED_BACKBONE) */
    int32_t normalize;        /**< 1: L2-normalise each row (default 0) */
    int32_t chunk;            /**< images per internal forward pass, 1..65536 (default 128);
                                   bounds memory. Results for different chunk sizes agree to
                                   float32 rounding (~1e-6 relative); for a fixed chunk and
                                   thread count they are bit-identical run to run */
    const float *mean;        /**< ctr_model_embed_u8 only: per-channel mean (in [0,1] units),
                                   `channels` values; NULL = 0 */
    const float *std;         /**< per-channel std, > 0; NULL = 1 */
} ctr_embed_options;

/** Fill *opts with the defaults (sets struct_size). NULL is ignored. */
void ctr_embed_options_default(ctr_embed_options *opts);

/** Embed uint8 images, n x h x w x channels (interleaved, row-major), normalised inside as
 *  (v/255 - mean[c]) / std[c], into out (n x dim floats, dim from ctr_model_output_dim).
 *  Any batch size n >= 1 is accepted (n >= 2 in training mode); it is processed in chunks.
 *  Images are at most 8192 x 8192.
 *  @param out_capacity  floats available in out
 *  @return OK, INVALID_ARGUMENT (NULL pointer, n < 1, size above 8192, bad option),
 *          SHAPE_MISMATCH (channels differ from the model's, or images too small for a
 *          ConvNet's pooling stages — ResNets accept any size), BUFFER_TOO_SMALL
 *          (out_capacity < n*dim; nothing written). Argument errors are found before any
 *          work; a SHAPE_MISMATCH from the network happens in the first chunk, before
 *          anything is written. */
ctr_status ctr_model_embed_u8(ctr_model *model, const uint8_t *images, int64_t n, int32_t h,
                              int32_t w, int32_t channels, const ctr_embed_options *opts,
                              float *out, size_t out_capacity);

/** Embed float images, n x channels x h x w (NCHW, already normalised), into out.
 *  NaN or Inf anywhere in the input gives CTR_STATUS_NUMERIC before anything runs.
 *  Other statuses as ctr_model_embed_u8. */
ctr_status ctr_model_embed_f32(ctr_model *model, const float *images, int64_t n, int32_t channels,
                               int32_t h, int32_t w, const ctr_embed_options *opts,
                               float *out, size_t out_capacity);
/* Augmentation                                                                              */
/* ======================================================================================== */

/* An augmenter turns a batch of uint8 images into the augmented views a contrastive method
 * trains on (SimCLR, MoCo v2, BYOL, SwAV, or any pipeline written in the description syntax
 * below), as float32 N×C×H×W, normalised, in a caller buffer.
 *
 * Views and layout. A pipeline has one or more views (SimCLR: 2 identical views; BYOL: 2
 * different ones; SwAV: 2 global + 6 local crops of another size). ctr_augmenter_apply writes
 * them view-major: view v of all n images is one contiguous (n, C, Hv, Wv) block, blocks in
 * view order. Image i's view v starts at offset(v) + i·C·Hv·Wv, offset(v) = Σ_{u<v} n·C·Hu·Wu.
 *
 * Determinism. Every random draw of image i's view v comes from a counter-based generator
 * (Philox4x32-10) keyed by (seed, epoch, indices[i], v). The same (seed, epoch, index) gives
 * the same views whatever the thread count, the batch size or the order of the images.
 *
 * Semantics. Each op matches torchvision.transforms.v2.functional with the same random
 * parameters (crop box, jitter factors, angle, sigma): within 1 grey level on the uint8 path
 * (precision uint8, the default: results are rounded/truncated after each op exactly where
 * torchvision's uint8 kernels do), within ~1e-4 on the float path (precision float).
 *
 * Description syntax (statements separated by newlines or ';', '#' comments):
 *   precision uint8|float
 *   normalize mean=a,b,c std=a,b,c          (1 value or one per channel; or `normalize none`)
 *   view [xN]: OP k=v ... | OP ... | ...    (one view pipeline, repeated N times)
 * OPs (p= probability, default 1 (0.5 for flips); ranges lo,hi; sizes S or HxW):
 *   rrc size= scale=0.08,1 ratio=0.75,1.333333   RandomResizedCrop, antialiased bilinear
 *   resize size=  |  crop size=                   resize; random crop (no padding)
 *   hflip p=  |  vflip p=  |  rot90 p=            flips; uniform k·90° rotation
 *   rotate p= degrees=lo,hi interp=nearest|bilinear fill=0..1
 *   jitter p= brightness= contrast= saturation= hue=   ColorJitter (random order, hue ≤ 0.5)
 *   grayscale p=                                  RandomGrayscale, keeps the channel count
 *   blur p= sigma=lo,hi kernel=auto|K             GaussianBlur (auto: ⌊0.1·side⌋ made odd)
 *   solarize p= threshold=0.5  |  equalize p=
 * rrc/resize/crop must have p=1. Example (SimCLR on CIFAR):
 *   "normalize mean=0.4914,0.4822,0.4465 std=0.247,0.243,0.261\n"
 *   "view x2: rrc size=32 scale=0.08,1 | hflip p=0.5 | jitter p=0.8 brightness=0.4"
 *   " contrast=0.4 saturation=0.4 hue=0.1 | grayscale p=0.2"
 *
 * Channels. Images have 1..64 channels. Geometric ops, blur, solarize and equalize work on
 * any channel count (per channel). jitter and grayscale need 1 or 3 channels (on 1 channel
 * saturation, hue and grayscale do nothing); other counts give CTR_STATUS_UNSUPPORTED.
 * Normalisation needs 1 value or one per channel (else CTR_STATUS_SHAPE_MISMATCH).
 *
 * Threads. An augmenter is immutable after creation: every ctr_augmenter_* function may be
 * called concurrently on the same augmenter from several threads. apply uses the library's
 * threads (ctr_set_num_threads). */

typedef struct ctr_augmenter ctr_augmenter;

/** Arithmetic of the pipeline (the `precision` statement). */
typedef enum ctr_augment_precision {
    CTR_AUGMENT_PRECISION_DEFAULT = 0, /**< the preset's or description's choice (uint8) */
    CTR_AUGMENT_PRECISION_UINT8 = 1,   /**< round/truncate after each op like torchvision uint8 */
    CTR_AUGMENT_PRECISION_FLOAT = 2    /**< no intermediate rounding */
} ctr_augment_precision;

/** Options of ctr_augmenter_create. Fill with ctr_augment_options_default(). */
typedef struct ctr_augment_options {
    uint32_t struct_size;     /**< sizeof(ctr_augment_options), set by the default function */
    const char *preset;       /**< "simclr", "simclr-cifar", "mocov2", "byol", "swav",
                                   "swav-cifar"; used when description is NULL. Default
                                   "simclr". Read only during create. */
    const char *description;  /**< a pipeline in the syntax above; overrides preset. NULL by
                                   default. Read only during create. */
    int32_t size;             /**< preset global crop side; 0 = preset default (224, or 32 for
                                   *-cifar). Ignored with a description. */
    int32_t local_size;       /**< swav local crop side; 0 = default (96, or 18 for
                                   swav-cifar). Ignored otherwise. */
    int32_t num_local;        /**< swav local crops; -1 = default (6). Ignored otherwise. */
    int32_t precision;        /**< a ctr_augment_precision; overrides preset/description when
                                   not DEFAULT */
    int32_t num_norm;         /**< 0 = keep the preset's/description's normalisation; -1 =
                                   none (output x/255); else the number of values in mean and
                                   std (1 or the channel count) */
    const float *mean;        /**< num_norm values (0..1 scale) when num_norm > 0 */
    const float *std;         /**< num_norm values, each > 0, when num_norm > 0 */
} ctr_augment_options;

/** Fill opts with the defaults (preset "simclr", everything else from the preset). */
void ctr_augment_options_default(ctr_augment_options *opts);

/** Build an augmenter from a preset or a description.
 *  @param opts  options (NULL = defaults)
 *  @param out   receives the augmenter (set to NULL on failure)
 *  @return CTR_STATUS_OK; CTR_STATUS_INVALID_ARGUMENT (out NULL, unknown preset, invalid
 *          value: probability outside [0,1], min > max, sigma ≤ 0, hue > 0.5, size ≤ 0, ...);
 *          CTR_STATUS_FORMAT (malformed description, the message names the statement). */
ctr_status ctr_augmenter_create(const ctr_augment_options *opts, ctr_augmenter **out);

/** Release an augmenter; NULL does nothing. */
void ctr_augmenter_free(ctr_augmenter *aug);

/** Number of views one image produces (SimCLR 2, SwAV 2 + locals); 0 for an invalid handle. */
int32_t ctr_augmenter_view_count(const ctr_augmenter *aug);

/** Shape of view `view` of one image for inputs of height h, width w, c channels.
 *  @param shape  receives {C, H, W}
 *  @return CTR_STATUS_OK; INVALID_ARGUMENT (NULL, view out of range, h or w < 1, a crop
 *          larger than the image); UNSUPPORTED (channel count an op refuses);
 *          SHAPE_MISMATCH (normalisation values do not match c). */
ctr_status ctr_augmenter_view_shape(const ctr_augmenter *aug, int32_t view, int32_t h, int32_t w,
                                    int32_t c, int32_t shape[3]);

/** Floats ctr_augmenter_apply writes for n images of h×w×c (all views).
 *  @return as ctr_augmenter_view_shape; OUT_OF_MEMORY when the size does not fit. */
ctr_status ctr_augmenter_output_size(const ctr_augmenter *aug, size_t n, int32_t h, int32_t w,
                                     int32_t c, size_t *floats);

/** The pipeline as text in the description syntax (feeding it back to ctr_augmenter_create
 *  gives the same augmenter). Same size-query protocol as ctr_build_info. */
ctr_status ctr_augmenter_describe(const ctr_augmenter *aug, char *buf, size_t capacity,
                                  size_t *needed);

/** Augment n uint8 images (n×h×w×c, interleaved) into out (layout above).
 *  @param indices  n keys for the random streams (e.g. dataset indices); NULL = 0..n-1
 *  @param out_capacity  floats available in out (see ctr_augmenter_output_size)
 *  @return CTR_STATUS_OK; INVALID_ARGUMENT (NULL pointers with n > 0, h/w < 1, crop larger
 *          than the image); UNSUPPORTED (channel count); SHAPE_MISMATCH; BUFFER_TOO_SMALL
 *          (out untouched); OUT_OF_MEMORY. On failure after work began, out may be partly
 *          written. */
ctr_status ctr_augmenter_apply(const ctr_augmenter *aug, const uint8_t *images, size_t n,
                               int32_t h, int32_t w, int32_t c, uint64_t seed, uint64_t epoch,
                               const int64_t *indices, float *out, size_t out_capacity);

/** Write a PNG preview to `path`: one row per image (the first min(n, 16)), the input then
 *  each of its views (un-normalised). RGB for 3 channels, grey otherwise (channel 0).
 *  @return CTR_STATUS_OK; errors of ctr_augmenter_apply; CTR_STATUS_IO (cannot write path). */
ctr_status ctr_augment_preview_png(const ctr_augmenter *aug, const char *path,
                                   const uint8_t *images, size_t n, int32_t h, int32_t w,
                                   int32_t c, uint64_t seed, uint64_t epoch);

/* ======================================================================================== */
/* Datasets                                                                                  */
/* ======================================================================================== */

/** An in-memory image dataset: n uint8 images of h x w x channels (interleaved), with
 *  optional integer labels. Handles are immutable after creation, so every function below may
 *  be called concurrently on the same dataset. */
typedef struct ctr_dataset ctr_dataset;

/** Load an IDX dataset (MNIST / Fashion-MNIST format; gzip-compressed files are detected and
 *  decompressed, bounded to 4 GiB). Images must be unsigned-byte IDX with 3 (n, h, w) or 4
 *  (n, h, w, c) dimensions; labels 1-D with the same n.
 *  @param labels_path  NULL for an unlabelled dataset
 *  @return OK, INVALID_ARGUMENT (NULL path/out), IO (cannot read), FORMAT (not IDX, truncated,
 *          corrupt gzip, sizes that disagree — the message says which file and why) */
ctr_status ctr_dataset_load_idx(const char *images_path, const char *labels_path, ctr_dataset **out);

/** Create a dataset from caller memory (copied; the caller keeps ownership).
 *  @param labels  n labels >= 0, or NULL
 *  @return OK, INVALID_ARGUMENT (NULL pointers, sizes < 1, negative labels), OUT_OF_MEMORY */
ctr_status ctr_dataset_from_memory(const uint8_t *images, int64_t n, int32_t h, int32_t w, int32_t channels,
                                   const int32_t *labels, ctr_dataset **out);

/** The built-in procedural dataset: n RGB images of size x size with ten classes of coloured
 *  shapes and textures (disc, square, triangle, cross, ring, horizontal / vertical / diagonal
 *  stripes, checkerboard, dots) under random colours, position, scale and noise. Image i
 *  depends only on (seed, i). For demos and tests where no colour dataset is installed.
 *  @return OK, INVALID_ARGUMENT (n outside 1..2^24, size outside 8..1024, NULL out) */
ctr_status ctr_dataset_procedural(int64_t n, int32_t size, uint64_t seed, ctr_dataset **out);

/** CIFAR binary layouts (ctr_dataset_load_cifar). */
typedef enum ctr_cifar_format {
    CTR_CIFAR10 = 0,            /**< cifar-10-batches-bin: 1 label byte + 3072 pixels, labels 0..9 */
    CTR_CIFAR100_FINE = 1,      /**< cifar-100-binary: coarse + fine label bytes + 3072 pixels;
                                     the fine labels 0..99 are kept */
    CTR_CIFAR100_COARSE = 2     /**< cifar-100-binary, keeping the coarse labels 0..19 */
} ctr_cifar_format;

/** Load CIFAR-10 or CIFAR-100 binary batches (e.g. data_batch_1.bin ... data_batch_5.bin, or
 *  train.bin) into one labelled dataset of 32x32x3 images, files in the order given. The
 *  planar (CHW) pixels of the files are stored interleaved (HWC) like every dataset. The class
 *  names are the published ones (ctr_dataset_class_name); num_classes is 10, 100 or 20.
 *  @param paths    n_paths file names (each NUL-terminated, read only during the call)
 *  @param n_paths  1..4096
 *  @param format   a ctr_cifar_format
 *  @param out      receives the dataset; set to NULL on failure (nothing else is allocated)
 *  @return OK; INVALID_ARGUMENT (NULL paths/out/path, n_paths out of range, unknown format);
 *          IO (a file cannot be opened or read); FORMAT (a file size that is not a whole
 *          number of records, or a label out of range — the message names the file and the
 *          record). */
ctr_status ctr_dataset_load_cifar(const char *const *paths, int32_t n_paths, int32_t format, ctr_dataset **out);

/** Load images (and labels) from NumPy .npy files (format versions 1.0, 2.0, 3.0). Images are
 *  uint8 ('|u1') of shape (n, h, w) — one channel — or (n, h, w, c), in C order; labels are an
 *  integer array (uint8, int32, int64 or another integer type) of shape (n,) with values in
 *  0..INT32_MAX. Object (pickled), structured and Fortran-order arrays are refused; nothing is
 *  ever unpickled. Headers are bounded (64 KiB, 32 dimensions) and every size is checked
 *  against the file before the data is allocated.
 *  @param labels_path  NULL for an unlabelled dataset
 *  @param out          receives the dataset; set to NULL on failure
 *  @return OK; INVALID_ARGUMENT (NULL images_path/out); IO (cannot read); FORMAT (not NPY,
 *          truncated, wrong dtype or shape, label count or value out of range — the message
 *          names the file). */
ctr_status ctr_dataset_load_npy(const char *images_path, const char *labels_path, ctr_dataset **out);

/** Layouts of an image folder (ctr_folder_options.layout). */
typedef enum ctr_folder_layout {
    CTR_FOLDER_AUTO = 0,        /**< CLASSES when root has any non-hidden sub-folder, else FLAT */
    CTR_FOLDER_CLASSES = 1,     /**< root/<class>/...: labels 0.. in sorted (byte-wise) folder
                                     name order, each class folder searched recursively (at
                                     most 16 levels); files directly in root are ignored */
    CTR_FOLDER_FLAT = 2         /**< the images directly in root, unlabelled */
} ctr_folder_layout;

/** Largest image side decoded by ctr_dataset_load_folder. */
#define CTR_IMAGE_MAX_SIDE 16384
/** Largest decoded image, in bytes (before channel conversion and resizing). */
#define CTR_IMAGE_MAX_BYTES (1u << 28)

/** Options of ctr_dataset_load_folder. Fill with ctr_folder_options_default(). */
typedef struct ctr_folder_options {
    uint32_t struct_size;   /**< sizeof(ctr_folder_options), set by the default function */
    int32_t height;         /**< output height, 1..16384, or 0 with width 0 to keep the images'
                                 own size (then all must have the same size) (default 0) */
    int32_t width;          /**< output width, 1..16384, or 0 (default 0) */
    int32_t channels;       /**< 1 (grey) or 3 (RGB) (default 3) */
    int32_t layout;         /**< a ctr_folder_layout (default CTR_FOLDER_AUTO) */
} ctr_folder_options;

/** Fill *opts with the defaults (sets struct_size). NULL is ignored. */
void ctr_folder_options_default(ctr_folder_options *opts);

/** Load a folder of PNG and JPEG images (.png, .jpg, .jpeg in any case; hidden names skipped;
 *  the format is told by the file's signature) into a dataset, sorted by path. Each image is
 *  decoded (PNG: any bit depth, palette, interlace; 16-bit reduced to 8; JPEG: grey or colour,
 *  baseline or progressive — CMYK refused), converted to `channels` (grey -> RGB by copying;
 *  RGB -> grey with ITU-R 601 luma 0.299/0.587/0.114 in PIL's fixed point; alpha dropped) and
 *  resized to height x width with antialiased bilinear (torchvision's uint8
 *  resize(antialias=True); the aspect ratio is not kept). Images wider or taller than
 *  CTR_IMAGE_MAX_SIDE or larger than CTR_IMAGE_MAX_BYTES decoded are refused before decoding.
 *  JPEG warnings (truncated or corrupt data) are errors. Decoding uses the library's threads.
 *  With the class layout, ctr_dataset_class_name gives each label's folder name.
 *  @param opts  options, or NULL for the defaults
 *  @param out   receives the dataset; set to NULL on failure
 *  @return OK; INVALID_ARGUMENT (NULL root/out, bad option); IO (root missing or not a
 *          folder, a file cannot be read); FORMAT (no images, an empty class folder, a file
 *          that is not PNG/JPEG, corrupt, truncated or too large — the message names the
 *          file); SHAPE_MISMATCH (size 0 and images of different sizes; the message names
 *          one); OUT_OF_MEMORY. A failure loads nothing: one bad file fails the whole call. */
ctr_status ctr_dataset_load_folder(const char *root, const ctr_folder_options *opts, ctr_dataset **out);

/** The name of class `label` (image folders: the class folder's name; CIFAR: the published
 *  class name), NUL-terminated UTF-8, into buf. Same size-query protocol as ctr_build_info.
 *  @param needed  if not NULL, receives the bytes needed including the NUL (on OK and
 *                 BUFFER_TOO_SMALL)
 *  @return OK; BUFFER_TOO_SMALL (buf untouched); INVALID_ARGUMENT (NULL dataset, buf NULL with
 *          capacity > 0, a dataset without class names, label outside 0..num_classes-1). */
ctr_status ctr_dataset_class_name(const ctr_dataset *dataset, int32_t label, char *buf, size_t capacity,
                                  size_t *needed);

/** Release a dataset. NULL is a no-op. */
void ctr_dataset_free(ctr_dataset *dataset);

/** Sizes of a dataset. */
typedef struct ctr_dataset_info {
    uint32_t struct_size;   /**< set by the caller to sizeof(ctr_dataset_info) */
    int32_t height, width, channels;
    int64_t count;
    int32_t has_labels;     /**< 1 if labelled */
    int32_t num_classes;    /**< 1 + the largest label (0 without labels) */
} ctr_dataset_info;

/** Fill *info (only the first info->struct_size bytes are written).
 *  @return OK, INVALID_ARGUMENT (NULL, struct_size < 4) */
ctr_status ctr_dataset_get_info(const ctr_dataset *dataset, ctr_dataset_info *info);

/** Copy images [start, start+count) into out (count*h*w*channels bytes).
 *  @return OK, INVALID_ARGUMENT (range outside the dataset, NULL), BUFFER_TOO_SMALL */
ctr_status ctr_dataset_copy_images(const ctr_dataset *dataset, int64_t start, int64_t count,
                                   uint8_t *out, size_t out_capacity);

/** Copy labels [start, start+count) into out (count values).
 *  @return OK, INVALID_ARGUMENT (unlabelled dataset, range, NULL), BUFFER_TOO_SMALL */
ctr_status ctr_dataset_copy_labels(const ctr_dataset *dataset, int64_t start, int64_t count,
                                   int32_t *out, size_t out_capacity);

/** Split into train and validation datasets by a seeded random permutation; the validation
 *  part holds round(fraction * n) images. Both keep the original order within themselves.
 *  @return OK, INVALID_ARGUMENT (fraction outside [0, 1] or NaN, NULL pointers) */
ctr_status ctr_dataset_split(const ctr_dataset *dataset, double validation_fraction, uint64_t seed,
                             ctr_dataset **train, ctr_dataset **validation);
/* Objectives: losses and their gradients for your own embeddings                           */
/* ======================================================================================== */

/* For users who train their own networks: given embeddings (float32, row-major, one row per
 * sample), these calls return the loss and its gradient with respect to the embeddings, ready
 * to back-propagate through your network. They follow solo-learn's formulations and are checked
 * against PyTorch (Tests/ContrastiveTests/Fixtures/gen_objective_fixtures.py).
 *
 * Common rules.
 *  - Shapes are explicit: each input has its row count (n1, n2, ...) and all share `dim`.
 *    Rows ≥ 1, dim ≥ 1, rows × dim < 2^31. Views that must match and do not give
 *    CTR_STATUS_SHAPE_MISMATCH.
 *  - `loss` receives the scalar loss (required). Gradient pointers (n × dim floats each) may be
 *    NULL when that gradient is not wanted; with all of them NULL only the loss is computed.
 *    A gradient buffer is overwritten (not added to).
 *  - NaN or ±Inf in any input, or a non-finite loss or gradient, gives CTR_STATUS_NUMERIC.
 *  - On failure *loss and the gradient buffers are left untouched.
 *  - The calls keep no state and may run concurrently from several threads (each uses the
 *    library's threads, ctr_set_num_threads). Results are bit-identical run to run for a fixed
 *    thread count. */

/** Similarity used by the contrastive losses. */
typedef enum ctr_similarity {
    CTR_SIMILARITY_COSINE = 0,                 /**< rows L2-normalised inside (x/max(|x|,1e-12)), dot product */
    CTR_SIMILARITY_NEG_SQUARED_EUCLIDEAN = 1   /**< -|u - v|^2 on the raw rows */
} ctr_similarity;

/** Options of ctr_ntxent. Fill with ctr_ntxent_options_default(). */
typedef struct ctr_ntxent_options {
    uint32_t struct_size;     /**< sizeof(ctr_ntxent_options), set by the default function */
    float temperature;        /**< tau > 0 (default 0.5; SimCLR CIFAR uses 0.2) */
    int32_t similarity;       /**< a ctr_similarity (default CTR_SIMILARITY_COSINE) */
    int32_t decoupled;        /**< 1: DCL, the positive is left out of the denominator (default 0) */
    const float *queue;       /**< queue_size x dim extra negatives (e.g. a memory bank), no
                                   gradient; normalised inside for cosine. NULL when queue_size is 0 */
    int64_t queue_size;       /**< rows of queue, >= 0 (default 0) */
} ctr_ntxent_options;

/** Fill *opts with the defaults above. NULL is ignored. */
void ctr_ntxent_options_default(ctr_ntxent_options *opts);

/** NT-Xent / InfoNCE (SimCLR) over two views z1, z2 of the same n samples (row i of z1 and
 *  row i of z2 are a positive pair): each of the 2n rows is an anchor whose positive is the
 *  other view of its sample and whose negatives are the other 2n-2 rows plus the queue rows;
 *      loss = mean over the 2n anchors of  -log( exp(s_pos/tau) / sum_{j != anchor} exp(s_j/tau) ).
 *  Computed in row blocks (memory grows as (2n + K)·dim, not n^2).
 *  @param z1, z2  n1 x dim and n2 x dim embeddings (n1 must equal n2)
 *  @param opts    options, NULL for the defaults
 *  @param dz1, dz2  gradients (n x dim each) or NULL
 *  @return OK; INVALID_ARGUMENT (NULL z1/z2/loss, n or dim < 1, temperature <= 0 or not finite,
 *          unknown similarity, decoupled not 0/1, queue NULL with queue_size > 0, queue_size < 0,
 *          decoupled with no negative at all); SHAPE_MISMATCH (n1 != n2); NUMERIC; OUT_OF_MEMORY. */
ctr_status ctr_ntxent(const float *z1, const float *z2, int64_t n1, int64_t n2, int64_t dim,
                      const ctr_ntxent_options *opts, float *loss, float *dz1, float *dz2);

/** Options of ctr_supcon. Fill with ctr_supcon_options_default(). */
typedef struct ctr_supcon_options {
    uint32_t struct_size;
    float temperature;        /**< tau > 0 (default 0.1) */
    int32_t similarity;       /**< a ctr_similarity (default CTR_SIMILARITY_COSINE) */
} ctr_supcon_options;

void ctr_supcon_options_default(ctr_supcon_options *opts);

/** Supervised contrastive loss (SupCon): z holds n rows (all views stacked), labels[i] >= 0
 *  its class; rows with the same label are positives of each other. For each anchor i with at
 *  least one positive P(i): -mean_{p in P(i)} log softmax_{j != i}(s_ij/tau)_p; the loss is the
 *  mean over those anchors (rows whose label occurs once are not anchors; if no row has a
 *  positive the loss is 0). With labels = sample index this is NT-Xent.
 *  @return OK; INVALID_ARGUMENT (NULL, n/dim < 1, a negative label — the message names the row,
 *          bad temperature or similarity); NUMERIC; OUT_OF_MEMORY. */
ctr_status ctr_supcon(const float *z, const int32_t *labels, int64_t n, int64_t dim,
                      const ctr_supcon_options *opts, float *loss, float *dz);

/** BYOL: loss = 2 - 2 · mean_i cos(p_i, z_i) between the online predictions p and the target
 *  projections z (n1 x dim and n2 x dim, n1 == n2). For the symmetrised loss call it twice
 *  (p1 with z2, p2 with z1) and add. dp is what you back-propagate; dz (usually NULL: the target
 *  takes no gradient in BYOL) is the gradient with respect to z. SimSiam's loss
 *  -mean cos(p, stopgrad(z)) is (loss - 2)/2 of this call, with gradient dp/2.
 *  @return OK; INVALID_ARGUMENT (NULL, sizes < 1); SHAPE_MISMATCH (n1 != n2); NUMERIC. */
ctr_status ctr_byol_loss(const float *p, const float *z, int64_t n1, int64_t n2, int64_t dim,
                         float *loss, float *dp, float *dz);

/** MoCo (v2) contrast: queries q against their keys k (n1 x dim and n2 x dim, n1 == n2, the
 *  positives) and queue_size queued keys (negatives, rows used as given — MoCo stores them
 *  L2-normalised; queue may be NULL when queue_size is 0). q and k are normalised inside:
 *      loss = mean_i cross_entropy([q̂_i·k̂_i, q̂_i·queue_1, ..., q̂_i·queue_K] / temperature, 0).
 *  dq is what you back-propagate; dk (usually NULL: keys come from the momentum encoder) is
 *  the gradient with respect to k. The queue receives no gradient. For the symmetric loss call
 *  it twice (q1 with k2, q2 with k1) and average.
 *  @return OK; INVALID_ARGUMENT (NULL, sizes < 1, queue_size < 0, queue NULL with
 *          queue_size > 0, temperature <= 0 or not finite); SHAPE_MISMATCH (n1 != n2); NUMERIC. */
ctr_status ctr_moco_loss(const float *q, const float *k, int64_t n1, int64_t n2, int64_t dim,
                         const float *queue, int64_t queue_size, float temperature,
                         float *loss, float *dq, float *dk);

/** Options of ctr_barlow_twins. Fill with ctr_barlow_twins_options_default(). */
typedef struct ctr_barlow_twins_options {
    uint32_t struct_size;
    float lambda;             /**< off-diagonal weight, >= 0 (default 0.005) */
    float scale;              /**< overall factor, > 0 (default 0.025, solo-learn's) */
} ctr_barlow_twins_options;

void ctr_barlow_twins_options_default(ctr_barlow_twins_options *opts);

/** Barlow Twins: each view standardised per feature over the batch (biased variance,
 *  eps 1e-5), C = z1ᵀz2/n, loss = scale · (sum_i (1 - C_ii)^2 + lambda · sum_{i!=j} C_ij^2).
 *  Needs n >= 2. @return OK; INVALID_ARGUMENT; SHAPE_MISMATCH (n1 != n2); NUMERIC; OUT_OF_MEMORY
 *  (dim^2 too large). */
ctr_status ctr_barlow_twins(const float *z1, const float *z2, int64_t n1, int64_t n2, int64_t dim,
                            const ctr_barlow_twins_options *opts, float *loss, float *dz1, float *dz2);

/** Options of ctr_vicreg. Fill with ctr_vicreg_options_default(). */
typedef struct ctr_vicreg_options {
    uint32_t struct_size;
    float invariance;         /**< weight of mean((z1 - z2)^2), >= 0 (default 25) */
    float variance;           /**< weight of the hinge on the per-feature std, >= 0 (default 25) */
    float covariance;         /**< weight of the off-diagonal covariance, >= 0 (default 1) */
    float eps;                /**< inside the std's square root, > 0 (default 1e-4) */
    float gamma;              /**< target std, >= 0 (default 1) */
} ctr_vicreg_options;

void ctr_vicreg_options_default(ctr_vicreg_options *opts);

/** VICReg: invariance · mean((z1-z2)^2) + variance · (mean_j relu(gamma - std_j(z1)) +
 *  mean_j relu(gamma - std_j(z2)))/2 + covariance · sum_v sum_{i!=j} Cov_ij(z_v)^2 / dim
 *  (unbiased variance and covariance). Needs n >= 2.
 *  @return as ctr_barlow_twins. */
ctr_status ctr_vicreg(const float *z1, const float *z2, int64_t n1, int64_t n2, int64_t dim,
                      const ctr_vicreg_options *opts, float *loss, float *dz1, float *dz2);

/** Most prototypes ctr_sinkhorn accepts. */
#define CTR_SINKHORN_MAX_PROTOTYPES 65536

/** Options of ctr_sinkhorn. Fill with ctr_sinkhorn_options_default(). */
typedef struct ctr_sinkhorn_options {
    uint32_t struct_size;
    float epsilon;            /**< entropic regularisation, > 0 (default 0.05) */
    int32_t iterations;       /**< 1..1000 (default 3) */
    int32_t use_double;       /**< 1: compute in float64 (default 0) */
} ctr_sinkhorn_options;

void ctr_sinkhorn_options_default(ctr_sinkhorn_options *opts);

/** Sinkhorn-Knopp (SwAV's codes with the equal-partition constraint): from scores b x k
 *  (samples x prototypes, e.g. normalised embeddings times normalised prototypes) computes
 *  codes b x k whose rows each sum to 1 and whose columns each sum to about b/k (exactly after
 *  enough iterations) — the same result as SwAV's / solo-learn's `sinkhorn`.
 *  @param codes  b·k floats; may not overlap scores
 *  @param codes_capacity  floats available in codes
 *  @return OK; INVALID_ARGUMENT (NULL, b or k < 1, k > CTR_SINKHORN_MAX_PROTOTYPES, epsilon <= 0,
 *          iterations outside 1..1000, use_double not 0/1); BUFFER_TOO_SMALL (codes_capacity <
 *          b·k, nothing written); NUMERIC (non-finite score); OUT_OF_MEMORY. */
ctr_status ctr_sinkhorn(const float *scores, int64_t b, int64_t k, const ctr_sinkhorn_options *opts,
                        float *codes, size_t codes_capacity);

/* ======================================================================================== */
/* Training                                                                                  */
/* ======================================================================================== */

/* (declarations of the training section go here) */


/* ======================================================================================== */
/* Evaluation                                                                                */
/* ======================================================================================== */

/* (declarations of the evaluation section go here) */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CONTRASTIVE_H */
