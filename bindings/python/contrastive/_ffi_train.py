"""ctypes declarations of the "Training" section of contrastive.h (structs field for field,
functions with their C prototypes as comments). Declared into the loaded library by _ffi."""
from __future__ import annotations

import ctypes

CTR_MAX_MILESTONES = 8


class CtrTrainerOptions(ctypes.Structure):
    """``ctr_trainer_options`` (see contrastive.h for every field's meaning and default)."""


def _define_structs() -> None:
    from ._ffi import CtrModelOptions
    i32, u32, f32, u64, f64, i64 = ctypes.c_int32, ctypes.c_uint32, ctypes.c_float, ctypes.c_uint64, ctypes.c_double, ctypes.c_int64
    CtrTrainerOptions._fields_ = [
        ("struct_size", u32), ("method", i32), ("model", CtrModelOptions),
        ("augment_preset", ctypes.c_char_p), ("augment_description", ctypes.c_char_p),
        ("epochs", i32), ("batch_size", i32), ("accumulation", i32), ("seed", u64),
        ("optimizer", i32), ("learning_rate", f32), ("weight_decay", f32), ("momentum", f32),
        ("lars_eta", f32), ("lars_clip", i32), ("lr_scaling", i32), ("schedule", i32),
        ("warmup_epochs", f32), ("num_milestones", i32), ("step_milestones", i32 * CTR_MAX_MILESTONES),
        ("step_gamma", f32), ("temperature", f32), ("queue_size", i32), ("tau_base", f32), ("tau_final", f32),
        ("prototypes", i32), ("freeze_prototypes_epochs", i32), ("swav_queue_start_epoch", i32),
        ("nonfinite", i32), ("max_skipped_steps", i32), ("knn_every", i32), ("knn_k", i32),
        ("knn_temperature", f32), ("knn_max_train", i32), ("rank_samples", i32), ("progress", i32),
        ("image_height", i32), ("image_width", i32),
    ]
    CtrStepMetrics._fields_ = [
        ("struct_size", u32), ("epoch", i32), ("step", i64), ("steps_per_epoch", i64), ("total_steps", i64),
        ("loss", f32), ("learning_rate", f32), ("tau", f32), ("grad_norm", f64), ("embedding_std", f64),
        ("images_per_second", f64), ("seconds", f64), ("skipped", i32), ("ended_epoch", i32),
    ]
    CtrEpochMetrics._fields_ = [
        ("struct_size", u32), ("epoch", i32), ("mean_loss", f64), ("effective_rank", f64),
        ("knn_top1", f64), ("knn_top5", f64), ("seconds", f64), ("skipped_steps", i64),
    ]
    CtrTrainState._fields_ = [
        ("struct_size", u32), ("epoch", i32), ("epochs", i32), ("step_in_epoch", i64), ("steps_per_epoch", i64),
        ("global_step", i64), ("total_steps", i64), ("skipped_steps", i64), ("finished", i32),
        ("crop_height", i32), ("crop_width", i32), ("channels", i32),
    ]


class CtrFinetuneOptions(ctypes.Structure):
    """``ctr_finetune_options``."""
    _fields_ = [("struct_size", ctypes.c_uint32), ("epochs", ctypes.c_int32), ("batch_size", ctypes.c_int32),
                ("learning_rate", ctypes.c_float), ("momentum", ctypes.c_float), ("weight_decay", ctypes.c_float),
                ("freeze_backbone", ctypes.c_int32), ("seed", ctypes.c_uint64)]


class CtrFinetuneResult(ctypes.Structure):
    """``ctr_finetune_result``."""
    _fields_ = [("struct_size", ctypes.c_uint32), ("top1", ctypes.c_double), ("top5", ctypes.c_double),
                ("train_loss", ctypes.c_double), ("steps", ctypes.c_int64)]


class CtrStepMetrics(ctypes.Structure):
    """``ctr_step_metrics``."""


class CtrEpochMetrics(ctypes.Structure):
    """``ctr_epoch_metrics``."""


class CtrTrainState(ctypes.Structure):
    """``ctr_train_state``."""


#: int32_t (*ctr_train_callback)(const ctr_step_metrics *step, const ctr_epoch_metrics *epoch, void *user_data);
CTR_TRAIN_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.POINTER(CtrStepMetrics), ctypes.POINTER(CtrEpochMetrics), ctypes.c_void_p)


def declare(dll, path, _declare) -> None:
    """Declare the training functions on ``dll`` (called by _ffi.load_library)."""
    if not hasattr(CtrTrainerOptions, "_fields_"):
        _define_structs()
    st, vp, i32, i64, sz = ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64, ctypes.c_size_t
    P = ctypes.POINTER
    # void ctr_trainer_options_default(ctr_trainer_options *opts);
    _declare(dll, path, "ctr_trainer_options_default", None, [P(CtrTrainerOptions)])
    # ctr_status ctr_trainer_create(const ctr_trainer_options *opts, const ctr_dataset *train,
    #                               const ctr_dataset *validation, ctr_trainer **out);
    _declare(dll, path, "ctr_trainer_create", st, [P(CtrTrainerOptions), vp, vp, P(vp)])
    # void ctr_trainer_free(ctr_trainer *trainer);
    _declare(dll, path, "ctr_trainer_free", None, [vp])
    # ctr_status ctr_trainer_fit(ctr_trainer *trainer, ctr_train_callback callback, void *user_data);
    _declare(dll, path, "ctr_trainer_fit", st, [vp, CTR_TRAIN_CALLBACK, vp])
    # ctr_status ctr_trainer_step(ctr_trainer *trainer, ctr_step_metrics *metrics);
    _declare(dll, path, "ctr_trainer_step", st, [vp, P(CtrStepMetrics)])
    # ctr_status ctr_trainer_step_batch(ctr_trainer *trainer, const uint8_t *images, int64_t n, int32_t h,
    #                                   int32_t w, int32_t channels, const int32_t *labels, ctr_step_metrics *metrics);
    _declare(dll, path, "ctr_trainer_step_batch", st, [vp, vp, i64, i32, i32, i32, vp, P(CtrStepMetrics)])
    # ctr_status ctr_trainer_get_state(const ctr_trainer *trainer, ctr_train_state *state);
    _declare(dll, path, "ctr_trainer_get_state", st, [vp, P(CtrTrainState)])
    # ctr_status ctr_trainer_history(const ctr_trainer *trainer, ctr_epoch_metrics *out, size_t capacity, size_t *count);
    _declare(dll, path, "ctr_trainer_history", st, [vp, P(CtrEpochMetrics), sz, P(sz)])
    # ctr_status ctr_trainer_save(const ctr_trainer *trainer, const char *path);
    _declare(dll, path, "ctr_trainer_save", st, [vp, ctypes.c_char_p])
    # ctr_status ctr_trainer_load(ctr_trainer *trainer, const char *path);
    _declare(dll, path, "ctr_trainer_load", st, [vp, ctypes.c_char_p])
    # ctr_status ctr_trainer_export_encoder(const ctr_trainer *trainer, const char *path, int32_t include_head);
    _declare(dll, path, "ctr_trainer_export_encoder", st, [vp, ctypes.c_char_p, i32])
    # ctr_status ctr_trainer_get_model(ctr_trainer *trainer, ctr_model **out);
    _declare(dll, path, "ctr_trainer_get_model", st, [vp, P(vp)])
    # ctr_status ctr_trainer_embed_dataset(ctr_trainer *trainer, const ctr_dataset *dataset, int32_t output,
    #                                      int32_t normalize, float *out, size_t out_capacity);
    _declare(dll, path, "ctr_trainer_embed_dataset", st, [vp, vp, i32, i32, vp, sz])
    # void ctr_finetune_options_default(ctr_finetune_options *opts);
    _declare(dll, path, "ctr_finetune_options_default", None, [P(CtrFinetuneOptions)])
    # ctr_status ctr_model_finetune(ctr_model *model, const ctr_dataset *train, const ctr_dataset *test,
    #                               const ctr_finetune_options *opts, ctr_finetune_result *result);
    _declare(dll, path, "ctr_model_finetune", st, [vp, vp, vp, P(CtrFinetuneOptions), P(CtrFinetuneResult)])
    # ctr_status ctr_dataset_slice(const ctr_dataset *dataset, int64_t start, int64_t count, ctr_dataset **out);
    _declare(dll, path, "ctr_dataset_slice", st, [vp, i64, i64, P(vp)])
