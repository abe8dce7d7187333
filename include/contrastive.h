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

/** A new dataset holding images [start, start+count) (and their labels), copied.
 *  @return OK, INVALID_ARGUMENT (range outside the dataset, count < 1, NULL), OUT_OF_MEMORY */
ctr_status ctr_dataset_slice(const ctr_dataset *dataset, int64_t start, int64_t count, ctr_dataset **out);
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

/* A trainer runs self-supervised pre-training: every epoch it shuffles the dataset with a
 * permutation keyed by (seed, epoch) (dropping the last partial batch), augments the next batch
 * on a background thread while the current one trains, runs the method's forward/backward,
 * steps the optimizer, then the method's rules (EMA target, queue push, prototype
 * normalisation). Every step reports metrics; every epoch the effective rank of backbone
 * features and, with a labelled validation split, online weighted-kNN accuracy.
 * Determinism. Image i's views in epoch e are keyed by (seed, e, i, view), so for a fixed seed
 * and thread count a run is bit-identical, and a run resumed from a checkpoint (saved at any
 * step) continues exactly as the uninterrupted run: 2 epochs == 1 + save + load + 1.
 * NaN guard. A step whose loss or gradient is NaN/Inf, or whose update would make a weight
 * non-finite, never reaches the weights: its update, batch-norm statistics and queue pushes
 * are undone and it is counted (CTR_NONFINITE_SKIP; training stops with CTR_STATUS_NUMERIC
 * after max_skipped_steps such steps in a row), or training stops at once with
 * CTR_STATUS_NUMERIC (CTR_NONFINITE_STOP). The weights are intact either way.
 * Threads. One trainer, one thread at a time; the library's threads (ctr_set_num_threads) do
 * the work. The callback runs on the calling thread. */

typedef struct ctr_trainer ctr_trainer;

/** Self-supervised methods (ctr_trainer_options.method). */
typedef enum ctr_method {
    CTR_METHOD_SIMCLR = 0,   /**< NT-Xent between two views (LARS 0.4, T 0.2, head 2048-256) */
    CTR_METHOD_MOCOV2 = 1,   /**< MoCo v2+: EMA keys, queue (SGD 0.3, T 0.2, queue 32768, tau 0.99->0.999) */
    CTR_METHOD_BYOL = 2,     /**< EMA target + predictor (LARS 1.0, head 4096-256 BN, tau 0.99->1) */
    CTR_METHOD_SWAV = 3,     /**< Sinkhorn codes over 3000 prototypes, multi-crop (LARS 0.6, T 0.1) */
    CTR_METHOD_SIMSIAM = 4,  /**< stop-gradient + predictor (SGD 0.5) */
    CTR_METHOD_BARLOW = 5,   /**< Barlow Twins cross-correlation (LARS 0.3) */
    CTR_METHOD_VICREG = 6,   /**< variance-invariance-covariance (LARS 0.3) */
    CTR_METHOD_NNCLR = 7,    /**< nearest-neighbour positives from a support queue (LARS 0.4) */
    CTR_METHOD_SUPCON = 8    /**< supervised contrastive: needs labels (LARS 0.4, T 0.1) */
} ctr_method;

/** Optimizers (ctr_trainer_options.optimizer). */
typedef enum ctr_optimizer {
    CTR_OPTIMIZER_DEFAULT = 0, /**< the method's recipe */
    CTR_OPTIMIZER_SGD = 1,     /**< momentum SGD (PyTorch's formulation) */
    CTR_OPTIMIZER_LARS = 2,    /**< LARS as solo-learn (trust coefficient lars_eta, clipping) */
    CTR_OPTIMIZER_ADAMW = 3    /**< AdamW (decoupled weight decay) */
} ctr_optimizer;

/** Learning-rate schedules, evaluated per step. */
typedef enum ctr_schedule {
    CTR_SCHEDULE_COSINE = 0,   /**< linear warm-up over warmup_epochs, then cosine to 0 */
    CTR_SCHEDULE_CONSTANT = 1,
    CTR_SCHEDULE_STEP = 2      /**< times step_gamma at each of step_milestones (epochs) */
} ctr_schedule;

/** How the base rate grows with batch_size. */
typedef enum ctr_lr_scaling {
    CTR_LR_SCALING_NONE = 0,
    CTR_LR_SCALING_LINEAR = 1, /**< lr * batch_size / 256 (the default, as solo-learn) */
    CTR_LR_SCALING_SQRT = 2    /**< lr * sqrt(batch_size / 256) */
} ctr_lr_scaling;

/** What a non-finite step does. */
typedef enum ctr_nonfinite {
    CTR_NONFINITE_SKIP = 0,    /**< skip and count it (default) */
    CTR_NONFINITE_STOP = 1     /**< stop with CTR_STATUS_NUMERIC */
} ctr_nonfinite;

/** Most step-schedule milestones accepted. */
#define CTR_MAX_MILESTONES 8

/** Options of ctr_trainer_create. Fill with ctr_trainer_options_default(). Numeric fields at
 *  their "default" sentinel (0 or a negative value, as noted) take the method's recipe. */
typedef struct ctr_trainer_options {
    uint32_t struct_size;      /**< sizeof(ctr_trainer_options), set by the default function */
    int32_t method;            /**< ctr_method (default CTR_METHOD_SIMCLR) */
    ctr_model_options model;   /**< the encoder; default ResNet-18, CIFAR stem, 3 channels, and
                                    head_layers 0 = the method's projection head */
    const char *augment_preset;      /**< an augmentation preset name (see ctr_augment_options),
                                          NULL = the method's (simclr-cifar / mocov2 / byol /
                                          swav-cifar ...) at the dataset's image size */
    const char *augment_description; /**< a pipeline in the description syntax; overrides the
                                          preset. Normalisation that does not fit the channel
                                          count is replaced by the dataset's channel mean/std */
    int32_t epochs;            /**< >= 1 (default 10) */
    int32_t batch_size;        /**< images per step, >= 2 (default 256) */
    int32_t accumulation;      /**< micro-batches per step (gradient accumulation; each is its
                                    own contrastive problem with its own BN statistics,
                                    gradients averaged); must divide batch_size (default 1) */
    uint64_t seed;             /**< shuffling, augmentation, initialisation (default 0) */
    int32_t optimizer;         /**< ctr_optimizer (default CTR_OPTIMIZER_DEFAULT) */
    float learning_rate;       /**< base rate before scaling; 0 = the method's (default 0) */
    float weight_decay;        /**< < 0 = the method's (default -1) */
    float momentum;            /**< SGD/LARS momentum, 0..1 (default 0.9) */
    float lars_eta;            /**< LARS trust coefficient (default 0.02) */
    int32_t lars_clip;         /**< 1: clip the LARS factor at 1 (default 1) */
    int32_t lr_scaling;        /**< ctr_lr_scaling (default CTR_LR_SCALING_LINEAR) */
    int32_t schedule;          /**< ctr_schedule (default CTR_SCHEDULE_COSINE) */
    float warmup_epochs;       /**< < 0 = min(10, epochs/10) (default -1) */
    int32_t num_milestones;    /**< CTR_SCHEDULE_STEP: entries of step_milestones (default 0) */
    int32_t step_milestones[CTR_MAX_MILESTONES]; /**< epochs, increasing */
    float step_gamma;          /**< (default 0.1) */
    float temperature;         /**< 0 = the method's (default 0) */
    int32_t queue_size;        /**< MoCo / NNCLR / SwAV queue rows; -1 = the method's (default -1) */
    float tau_base, tau_final; /**< EMA momentum, cosine from base to final; < 0 = the method's */
    int32_t prototypes;        /**< SwAV prototypes; 0 = 3000 (default 0) */
    int32_t freeze_prototypes_epochs; /**< SwAV; -1 = 2 (default -1) */
    int32_t swav_queue_start_epoch;   /**< SwAV queue joins from this epoch; -1 = never (default) */
    int32_t nonfinite;         /**< ctr_nonfinite (default CTR_NONFINITE_SKIP) */
    int32_t max_skipped_steps; /**< consecutive skips before CTR_STATUS_NUMERIC (default 10) */
    int32_t knn_every;         /**< online kNN every N epochs with a validation set; 0 = off (default 1) */
    int32_t knn_k;             /**< (default 20) */
    float knn_temperature;     /**< (default 0.07) */
    int32_t knn_max_train;     /**< training images in the kNN memory bank (default 10000) */
    int32_t rank_samples;      /**< images for the per-epoch effective rank; 0 = off (default 2048) */
    int32_t progress;          /**< 1: ctr_trainer_fit prints a progress line with ETA to stderr (default 0) */
    int32_t image_height, image_width; /**< input size when no dataset is given (default 32) */
} ctr_trainer_options;

/** Fill *opts with the defaults above (sets struct_size and model.struct_size). NULL is ignored. */
void ctr_trainer_options_default(ctr_trainer_options *opts);

/** Metrics of one step (written by the library; struct_size is set to the bytes written). */
typedef struct ctr_step_metrics {
    uint32_t struct_size;      /**< caller: sizeof(ctr_step_metrics) */
    int32_t epoch;             /**< 0-based epoch of this step */
    int64_t step;              /**< 0-based global step */
    int64_t steps_per_epoch, total_steps;
    float loss, learning_rate;
    float tau;                 /**< EMA momentum after this step (NaN without a momentum encoder) */
    double grad_norm;          /**< L2 norm of all trainable gradients */
    double embedding_std;      /**< std of L2-normalised projections x sqrt(d): ~1 healthy, -> 0 collapsed */
    double images_per_second, seconds;
    int32_t skipped;           /**< 1: the step was not finite and was skipped */
    int32_t ended_epoch;       /**< 1: this step ended an epoch */
} ctr_step_metrics;

/** Metrics of one epoch. */
typedef struct ctr_epoch_metrics {
    uint32_t struct_size;      /**< caller: sizeof(ctr_epoch_metrics) */
    int32_t epoch;
    double mean_loss;          /**< over the epoch's applied steps */
    double effective_rank;     /**< of backbone features of rank_samples images (NaN if off) */
    double knn_top1, knn_top5; /**< online weighted kNN on the validation set (NaN if none) */
    double seconds;
    int64_t skipped_steps;     /**< skipped so far in the run */
} ctr_epoch_metrics;

/** Called after every step (epoch == NULL) and additionally at the end of every epoch (with
 *  both). Return 0 to go on, anything else to cancel: ctr_trainer_fit then returns
 *  CTR_STATUS_CANCELLED after the current step, with the trainer consistent (save it, or call
 *  fit again to continue). Runs on the thread that called fit; must not call into this
 *  trainer. The pointers are valid during the call only. */
typedef int32_t (*ctr_train_callback)(const ctr_step_metrics *step, const ctr_epoch_metrics *epoch,
                                      void *user_data);

/** Create a trainer for `train` (may be NULL for ctr_trainer_step_batch only; then the image
 *  size comes from the options). `validation`, if not NULL, must be labelled, of the same image
 *  size, and enables online kNN (which also needs labels on `train`). The datasets are copied
 *  (they may be freed afterwards).
 *  @return OK; INVALID_ARGUMENT (NULL out, bad option — the message names it, batch larger
 *          than the dataset, SupCon without labels); SHAPE_MISMATCH (channels differ from the
 *          model's, validation of another size); FORMAT (bad augmentation description);
 *          UNSUPPORTED (an augmentation op refuses the channel count); OUT_OF_MEMORY. */
ctr_status ctr_trainer_create(const ctr_trainer_options *opts, const ctr_dataset *train,
                              const ctr_dataset *validation, ctr_trainer **out);

/** Release a trainer (stops its prefetch thread). NULL is a no-op. */
void ctr_trainer_free(ctr_trainer *trainer);

/** Train until the configured epochs are done (continuing a resumed or cancelled run).
 *  @param callback  may be NULL
 *  @return OK; CANCELLED (the callback asked; consistent, resumable); NUMERIC (non-finite steps,
 *          see above; weights intact); INVALID_ARGUMENT (no dataset); OUT_OF_MEMORY. */
ctr_status ctr_trainer_fit(ctr_trainer *trainer, ctr_train_callback callback, void *user_data);

/** One step on the next batch of the dataset (for your own loop); at an epoch's end the epoch
 *  metrics are computed too (see ctr_trainer_history).
 *  @param metrics  may be NULL
 *  @return OK; INVALID_ARGUMENT (no dataset, or training already complete); NUMERIC. On
 *          NUMERIC the same batch is tried again by the next call. */
ctr_status ctr_trainer_step(ctr_trainer *trainer, ctr_step_metrics *metrics);

/** One step on your own batch: n uint8 images (n x h x w x channels, interleaved), augmented
 *  by the trainer's pipeline (random streams keyed by global step * n + i). `labels` (n values)
 *  only for CTR_METHOD_SUPCON, else NULL. Advances the global step, not the epoch.
 *  @return OK; INVALID_ARGUMENT (NULL, n < 2, n not divisible into the micro-batches);
 *          SHAPE_MISMATCH (channels); NUMERIC. */
ctr_status ctr_trainer_step_batch(ctr_trainer *trainer, const uint8_t *images, int64_t n, int32_t h,
                                  int32_t w, int32_t channels, const int32_t *labels,
                                  ctr_step_metrics *metrics);

/** Where training stands. */
typedef struct ctr_train_state {
    uint32_t struct_size;      /**< caller: sizeof(ctr_train_state) */
    int32_t epoch;             /**< epochs completed */
    int32_t epochs;            /**< configured */
    int64_t step_in_epoch, steps_per_epoch, global_step, total_steps;
    int64_t skipped_steps;
    int32_t finished;          /**< 1 when all epochs are done */
    int32_t crop_height, crop_width, channels; /**< the encoder's input (first view) */
} ctr_train_state;

/** Fill *state (only the first state->struct_size bytes). @return OK, INVALID_ARGUMENT */
ctr_status ctr_trainer_get_state(const ctr_trainer *trainer, ctr_train_state *state);

/** Copy the per-epoch metrics so far (oldest first) into out. *count receives the number of
 *  epochs recorded (also on BUFFER_TOO_SMALL). out may be NULL when capacity is 0.
 *  @return OK, BUFFER_TOO_SMALL (nothing written), INVALID_ARGUMENT */
ctr_status ctr_trainer_history(const ctr_trainer *trainer, ctr_epoch_metrics *out, size_t capacity,
                               size_t *count);

/** Save the whole training state (every network incl. EMA targets and predictors, optimizer
 *  state, queues, prototypes, schedule position, epoch history) as safetensors, atomically:
 *  on failure (full disk, I/O error) an existing file at `path` is left intact.
 *  @return OK, INVALID_ARGUMENT, IO */
ctr_status ctr_trainer_save(const ctr_trainer *trainer, const char *path);

/** Restore a state written by ctr_trainer_save for the same method and architecture (create
 *  the trainer with the same options). Everything is checked before anything changes.
 *  @return OK; IO; FORMAT (not a training checkpoint, another method or architecture — the
 *          message names what differs —, truncated or malformed); NUMERIC (NaN in a tensor). */
ctr_status ctr_trainer_load(ctr_trainer *trainer, const char *path);

/** Write the encoder as a model checkpoint (ctr_model_load / torchvision naming): the backbone,
 *  plus the projection head when include_head is 1. @return OK, INVALID_ARGUMENT, IO */
ctr_status ctr_trainer_export_encoder(const ctr_trainer *trainer, const char *path, int32_t include_head);

/** A model handle for the trainer's encoder (backbone + projector), e.g. to embed with it.
 *  It shares the weights: it sees further training, and must not be used while the trainer
 *  trains. Free it with ctr_model_free (independently of the trainer).
 *  @return OK, INVALID_ARGUMENT */
ctr_status ctr_trainer_get_model(ctr_trainer *trainer, ctr_model **out);

/** Embed a whole dataset with the evaluation transform (resize to the training crop size,
 *  the training normalisation), eval mode, no gradient: count x dim floats into out
 *  (dim from ctr_model_output_dim on ctr_trainer_get_model's model).
 *  @param output  ctr_embed_output; @param normalize 1: L2-normalised rows
 *  @return OK; INVALID_ARGUMENT; SHAPE_MISMATCH (channels); BUFFER_TOO_SMALL (nothing written) */
ctr_status ctr_trainer_embed_dataset(ctr_trainer *trainer, const ctr_dataset *dataset, int32_t output,
                                     int32_t normalize, float *out, size_t out_capacity);


/* ======================================================================================== */
/* Evaluation                                                                                */
/* ======================================================================================== */

/* (declarations of the evaluation section go here) */

/* Evaluation of frozen features: weighted kNN, linear probe, retrieval, k-means and clustering
 * scores, top-k accuracy and effective rank — for embeddings from ctr_model_embed_* or from
 * any other network. They are checked against numpy / scikit-learn
 * (Tests/ContrastiveTests/Fixtures/gen_eval_fixtures.py).
 *
 * Common rules.
 *  - Features are float32, row-major, one row per sample: train is n_train x dim, test is
 *    n_test x dim (the two splits share dim — there is a single dim argument). Rows >= 1,
 *    dim >= 1, rows x dim < 2^31, else CTR_STATUS_INVALID_ARGUMENT (sizes < 1 or not fitting
 *    int64 -> int) or CTR_STATUS_OUT_OF_MEMORY (a product too large).
 *  - Class labels are int32 in 0 .. num_classes-1 (num_classes >= 1); a label outside it is
 *    CTR_STATUS_INVALID_ARGUMENT and the message names the array and the index.
 *  - NaN or +-Inf in a feature or score gives CTR_STATUS_NUMERIC naming the element.
 *  - Results: result structs start with `uint32_t struct_size`, which the caller sets to
 *    sizeof(the struct); the library writes only the first struct_size bytes (and leaves
 *    struct_size itself as it was), so a caller built against an older, shorter struct keeps
 *    working. Optional output arrays (may be NULL) come with their capacity in elements; a
 *    capacity below what is needed is CTR_STATUS_BUFFER_TOO_SMALL before any work is done.
 *  - On failure nothing is written: the result struct and every output array are left as they
 *    were. On success all the requested outputs are written.
 *  - The calls keep no state and may run concurrently from several threads (each uses the
 *    library's threads, ctr_set_num_threads). Results are bit-identical run to run for a fixed
 *    thread count (and, for k-means and SGD, a fixed seed). */

/* ---- weighted kNN ----------------------------------------------------------------------- */

/** Options of ctr_knn_evaluate. Fill with ctr_knn_options_default(). */
typedef struct ctr_knn_options {
    uint32_t struct_size;     /**< sizeof(ctr_knn_options), set by the default function */
    int32_t k;                /**< neighbours, 1..n_train (default 200; solo-learn uses 20) */
    float temperature;        /**< T > 0 of the vote weights exp(s/T) (default 0.1; solo-learn 0.07) */
} ctr_knn_options;

/** Fill *opts with the defaults above. NULL is ignored. */
void ctr_knn_options_default(ctr_knn_options *opts);

/** Accuracies of ctr_knn_evaluate (fractions in [0, 1]). */
typedef struct ctr_knn_result {
    uint32_t struct_size;     /**< set by the caller to sizeof(ctr_knn_result) */
    double top1;              /**< fraction of test rows whose predicted class is their label */
    double top5;              /**< fraction whose label is among the min(5, num_classes) best */
} ctr_knn_result;

/** Weighted k-nearest-neighbour classification (InstDisc / lightly / solo-learn protocol).
 *  Both splits are L2-normalised; s = cosine similarity (block-wise sgemm, memory bounded by a
 *  few MB beyond the normalised training copy). Each test row keeps its k most similar
 *  training rows (ties: lower training index) and
 *      score(c) = sum over those neighbours j with label c of exp(s_j / T);
 *  the prediction is the best score (ties: lower class index); top-5 asks whether the label is
 *  among the min(5, num_classes) best (classes without votes rank last, by index).
 *  @param opts         NULL for the defaults
 *  @param result       required; receives top1 / top5
 *  @param predictions  NULL, or n_test predicted classes (predictions_capacity >= n_test)
 *  @param scores       NULL, or n_test x num_classes class scores normalised to sum to 1 per
 *                      row (score(c) / sum_c score(c): the same ranking, no overflow at small T);
 *                      scores_capacity >= n_test * num_classes
 *  @return OK; INVALID_ARGUMENT (NULL train/test/labels/result, sizes < 1, num_classes < 1,
 *          k < 1 or k > n_train, temperature <= 0 or not finite, a label out of range, bad
 *          struct_size); BUFFER_TOO_SMALL; NUMERIC; OUT_OF_MEMORY. */
ctr_status ctr_knn_evaluate(const float *train, const int32_t *train_labels, int64_t n_train,
                            const float *test, const int32_t *test_labels, int64_t n_test,
                            int64_t dim, int32_t num_classes, const ctr_knn_options *opts,
                            ctr_knn_result *result, int32_t *predictions, size_t predictions_capacity,
                            float *scores, size_t scores_capacity);

/* ---- linear probe ----------------------------------------------------------------------- */

/** Optimiser of the linear probe. */
typedef enum ctr_probe_solver {
    CTR_PROBE_LBFGS = 0,      /**< full-batch L-BFGS on the L2-penalised objective (deterministic) */
    CTR_PROBE_SGD = 1         /**< mini-batch SGD, momentum, cosine schedule, seeded shuffle */
} ctr_probe_solver;

/** Options of ctr_linear_probe. Fill with ctr_linear_probe_options_default(). */
typedef struct ctr_linear_probe_options {
    uint32_t struct_size;     /**< sizeof(ctr_linear_probe_options), set by the default function */
    int32_t solver;           /**< a ctr_probe_solver (default CTR_PROBE_LBFGS) */
    double l2;                /**< lambda >= 0 of (lambda/2)·|W|^2 (default 1e-4); for SGD it is the
                                   weight decay. scikit-learn's C = 1 / (lambda · n_train) */
    int32_t standardize;      /**< 1: standardise features with the train mean / std (default 1) */
    int32_t max_iterations;   /**< L-BFGS: iterations, >= 1 (default 100, as scikit-learn's max_iter) */
    double tolerance;         /**< L-BFGS: stop when max |gradient| <= tolerance, >= 0 (default 1e-4,
                                   as scikit-learn's tol on the same mean-loss objective) */
    int32_t epochs;           /**< SGD: passes over the training split, >= 1 (default 100) */
    int32_t batch_size;       /**< SGD: rows per step, >= 1 (default 256) */
    double learning_rate;     /**< SGD: peak learning rate > 0 (default 0.1), cosine-decayed to 0 */
    double momentum;          /**< SGD: heavy-ball momentum in [0, 1) (default 0.9) */
    uint64_t seed;            /**< SGD: shuffle seed (default 0) */
} ctr_linear_probe_options;

/** Fill *opts with the defaults above. NULL is ignored. */
void ctr_linear_probe_options_default(ctr_linear_probe_options *opts);

/** Results of ctr_linear_probe (accuracies are fractions in [0, 1]). */
typedef struct ctr_linear_probe_result {
    uint32_t struct_size;     /**< set by the caller to sizeof(ctr_linear_probe_result) */
    int32_t iterations;       /**< L-BFGS iterations or SGD steps run (saturates at INT32_MAX) */
    double top1;              /**< test top-1 accuracy */
    double top5;              /**< test top-min(5, num_classes) accuracy */
    double train_top1;        /**< top-1 accuracy on the training split */
    double loss;              /**< final objective on the training split (see below) */
} ctr_linear_probe_result;

/** Linear probe: multinomial logistic regression on frozen features. With x̂ the features
 *  standardised by the training split's per-column mean and population std (a constant
 *  column keeps scale 1; standardize = 0 uses the raw features), logits z = W·x̂ + b and
 *      loss = mean_i cross_entropy(z_i, y_i) + (l2/2)·|W|^2     (bias not penalised),
 *  i.e. scikit-learn's LogisticRegression(multinomial) objective divided by C·n_train.
 *  The model is trained on the training split and evaluated on the test split.
 *  @param weights  NULL, or num_classes x dim floats (weights_capacity >= num_classes·dim):
 *                  the classifier for the RAW features (standardisation folded in), so
 *                  logits = x·weights^T + bias
 *  @param bias     NULL, or num_classes floats (bias_capacity >= num_classes)
 *  @return OK; INVALID_ARGUMENT (NULLs, sizes, labels, unknown solver, standardize not 0/1,
 *          l2 < 0, max_iterations / epochs / batch_size < 1, tolerance < 0, learning_rate <= 0,
 *          momentum outside [0, 1), non-finite option); BUFFER_TOO_SMALL; NUMERIC (NaN/Inf
 *          feature, or SGD diverged — lower the learning rate); OUT_OF_MEMORY (also when
 *          num_classes · (dim + 1) > 2^24 parameters). */
ctr_status ctr_linear_probe(const float *train, const int32_t *train_labels, int64_t n_train,
                            const float *test, const int32_t *test_labels, int64_t n_test,
                            int64_t dim, int32_t num_classes, const ctr_linear_probe_options *opts,
                            ctr_linear_probe_result *result, float *weights, size_t weights_capacity,
                            float *bias, size_t bias_capacity);

/* ---- retrieval -------------------------------------------------------------------------- */

/** Options of ctr_retrieval_map. Fill with ctr_retrieval_options_default(). */
typedef struct ctr_retrieval_options {
    uint32_t struct_size;     /**< sizeof(ctr_retrieval_options), set by the default function */
    int32_t k;                /**< cut-off of the @k metrics, 1..n_train (default 10) */
} ctr_retrieval_options;

/** Fill *opts with the defaults above. NULL is ignored. */
void ctr_retrieval_options_default(ctr_retrieval_options *opts);

/** Means of ctr_retrieval_map over the queries that have a relevant training row. */
typedef struct ctr_retrieval_result {
    uint32_t struct_size;               /**< set by the caller to sizeof(ctr_retrieval_result) */
    int32_t num_queries;                /**< queries the means are over */
    int32_t num_without_relevant;       /**< queries left out: no training row has their label */
    double map;                         /**< mean average precision over the full ranking */
    double map_at_k;                    /**< mean AP@k */
    double precision_at_k;              /**< mean fraction of relevant rows in the top k */
    double recall_at_1;                 /**< fraction of queries whose nearest row is relevant */
    double recall_at_k;                 /**< fraction with a relevant row in the top k */
} ctr_retrieval_result;

/** Retrieval by cosine similarity: each test row queries the whole training split, ranked by
 *  similarity (ties: lower training index); a training row is relevant when its label equals
 *  the query's (labels: any int32 values, only equality matters). With R relevant rows at
 *  ranks r_1 < ... < r_R:
 *      AP   = (1/R) · sum_i i / r_i                       (scikit-learn's average_precision_score
 *                                                          when no similarities tie)
 *      AP@k = (1/min(k, R)) · sum_{i : r_i <= k} i / r_i   (normalised by the best reachable)
 *      P@k  = #{i : r_i <= k} / k,    recall@k = [r_1 <= k]
 *  Queries with R = 0 are left out of every mean; if all are, the means are 0.
 *  @param average_precision  NULL, or n_test doubles (ap_capacity >= n_test): each query's AP,
 *                            -1 for a query without a relevant row
 *  @return OK; INVALID_ARGUMENT (NULLs, sizes, k < 1 or k > n_train); BUFFER_TOO_SMALL; NUMERIC;
 *          OUT_OF_MEMORY. Cost: n_test · n_train · (dim + log n_train). */
ctr_status ctr_retrieval_map(const float *train, const int32_t *train_labels, int64_t n_train,
                             const float *test, const int32_t *test_labels, int64_t n_test,
                             int64_t dim, const ctr_retrieval_options *opts, ctr_retrieval_result *result,
                             double *average_precision, size_t ap_capacity);

/* ---- k-means and clustering scores ------------------------------------------------------- */

/** Options of ctr_kmeans. Fill with ctr_kmeans_options_default(). */
typedef struct ctr_kmeans_options {
    uint32_t struct_size;     /**< sizeof(ctr_kmeans_options), set by the default function */
    int32_t max_iterations;   /**< Lloyd iterations per restart, >= 1 (default 300) */
    double tolerance;         /**< stop when sum_c |c_new - c_old|^2 <= tolerance · mean column
                                   variance (scikit-learn's rule), >= 0 (default 1e-4) */
    uint64_t seed;            /**< k-means++ seed (default 0) */
    int32_t restarts;         /**< independent k-means++ starts; the lowest inertia wins, >= 1 (default 1) */
} ctr_kmeans_options;

/** Fill *opts with the defaults above. NULL is ignored. */
void ctr_kmeans_options_default(ctr_kmeans_options *opts);

/** Outcome of ctr_kmeans. */
typedef struct ctr_kmeans_result {
    uint32_t struct_size;     /**< set by the caller to sizeof(ctr_kmeans_result) */
    int32_t iterations;       /**< Lloyd iterations of the winning restart */
    int32_t converged;        /**< 1 if it stopped by convergence, 0 by max_iterations */
    double inertia;           /**< sum_i |x_i - centroid(assignment_i)|^2 (computed in double) */
} ctr_kmeans_result;

/** k-means on x (n x dim): k-means++ seeding (one D^2-weighted draw per centroid), Lloyd
 *  iterations with sgemm distances (ties: lower centroid index; an empty cluster moves to the
 *  row farthest from its centroid), stopped by no change in the assignments, by the tolerance,
 *  or by max_iterations; then a last assignment to the final centroids.
 *  @param k                 clusters, 1..n
 *  @param assignments_out   NULL, or n cluster indices in 0..k-1 (assignments_capacity >= n)
 *  @param centroids_out     NULL, or k x dim floats (centroids_capacity >= k·dim)
 *  @return OK; INVALID_ARGUMENT (NULL x/result, sizes, k outside 1..n, bad options);
 *          BUFFER_TOO_SMALL; NUMERIC; OUT_OF_MEMORY. */
ctr_status ctr_kmeans(const float *x, int64_t n, int64_t dim, int32_t k, const ctr_kmeans_options *opts,
                      ctr_kmeans_result *result, int32_t *assignments_out, size_t assignments_capacity,
                      float *centroids_out, size_t centroids_capacity);

/** Agreement of a clustering with true labels (scikit-learn's definitions). */
typedef struct ctr_clustering_result {
    uint32_t struct_size;     /**< set by the caller to sizeof(ctr_clustering_result) */
    int32_t num_classes;      /**< distinct values in labels */
    int32_t num_clusters;     /**< distinct values in assignments */
    double nmi;               /**< normalized_mutual_info_score, arithmetic-mean normalisation */
    double ari;               /**< adjusted_rand_score */
    double purity;            /**< (1/n) · sum over clusters of their most frequent label's count */
} ctr_clustering_result;

/** NMI, ARI and purity of `assignments` against `labels` (n values each, >= 0; ids need not be
 *  contiguous). Both single-cluster gives NMI 1; identical partitions give 1 for all three.
 *  @return OK; INVALID_ARGUMENT (NULL, n < 1, a negative value — the message names it). */
ctr_status ctr_clustering_scores(const int32_t *labels, const int32_t *assignments, int64_t n,
                                 ctr_clustering_result *result);

/* ---- top-k accuracy and effective rank --------------------------------------------------- */

/** Top-k accuracy of a score matrix (n x num_classes, higher is better; logits, probabilities,
 *  kNN scores). Row i is correct when fewer than k classes rank ahead of labels[i], where class
 *  c ranks ahead of y when scores[c] > scores[y] or (scores[c] == scores[y] and c < y) — ties go
 *  to the lower class index (scikit-learn breaks ties the other way; without ties they agree).
 *  k >= num_classes makes every row correct.
 *  @return OK (*accuracy in [0, 1]); INVALID_ARGUMENT (NULL, n or num_classes < 1, k < 1, a label
 *          out of range); NUMERIC (a NaN/Inf score); OUT_OF_MEMORY. */
ctr_status ctr_topk_accuracy(const float *scores, const int32_t *labels, int64_t n, int32_t num_classes,
                             int32_t k, double *accuracy);

/** Effective rank (Roy & Vetterli 2007, as in RankMe) of x (n x dim): with sigma the singular
 *  values, p = sigma / sum(sigma), erank = exp(-sum p·log p), in [1, min(n, dim)] (0 for the
 *  zero matrix). Computed from the eigenvalues of the smaller Gram matrix in double (LAPACK
 *  dsyevd); eigenvalues below 1e-12 · the largest count as 0. A collapse diagnostic: the
 *  trainer reports it every epoch.
 *  @param centered  1: subtract the column means first (the spectrum of the covariance), 0: x as given
 *  @return OK; INVALID_ARGUMENT (NULL, sizes < 1, centered not 0/1); NUMERIC; OUT_OF_MEMORY
 *          (min(n, dim)^2 doubles are needed). Single-threaded. */
ctr_status ctr_effective_rank(const float *x, int64_t n, int64_t dim, int32_t centered, double *rank);

/* ---- fine-tuning for transfer ----------------------------------------------------------- */

/** Options of ctr_model_finetune. Fill with ctr_finetune_options_default(). */
typedef struct ctr_finetune_options {
    uint32_t struct_size;      /**< sizeof(ctr_finetune_options), set by the default function */
    int32_t epochs;            /**< >= 1 (default 5) */
    int32_t batch_size;        /**< >= 2 (default 256) */
    float learning_rate;       /**< SGD with momentum, cosine to 0 over all steps (default 0.05) */
    float momentum;            /**< (default 0.9) */
    float weight_decay;        /**< on weights, not biases/BN (default 5e-4) */
    int32_t freeze_backbone;   /**< 1: train the new classifier only (default 0: end to end) */
    uint64_t seed;             /**< shuffling and classifier initialisation (default 0) */
} ctr_finetune_options;

/** Fill *opts with the defaults above. NULL is ignored. */
void ctr_finetune_options_default(ctr_finetune_options *opts);

/** Result of ctr_model_finetune (fractions in [0, 1]). */
typedef struct ctr_finetune_result {
    uint32_t struct_size;      /**< caller: sizeof(ctr_finetune_result) */
    double top1, top5;         /**< on the test split */
    double train_loss;         /**< mean cross-entropy of the last epoch */
    int64_t steps;
} ctr_finetune_result;

/** Transfer by fine-tuning: the model's backbone plus a new linear classifier over the labels
 *  of `train`, trained with cross-entropy (images resized to the model's recorded input size
 *  and normalised as it was trained, else the images' own size and statistics), then
 *  evaluated on `test`. The model's weights are modified in place (end to end unless
 *  freeze_backbone); its head, if any, is not used.
 *  @return OK; INVALID_ARGUMENT (NULL, unlabelled or empty splits, bad option); SHAPE_MISMATCH
 *          (channels); NUMERIC (the loss diverged: lower the learning rate; the model is then
 *          partly trained); OUT_OF_MEMORY. */
ctr_status ctr_model_finetune(ctr_model *model, const ctr_dataset *train, const ctr_dataset *test,
                              const ctr_finetune_options *opts, ctr_finetune_result *result);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CONTRASTIVE_H */
