#pragma once
// Stage 2 as one call, for `emloc run` and `emloc train` alike: the training file tokenized with the
// model's template, a share of it held out for the validation loss, and LoRA trained on a model (the
// emulator, or any model).

#include "emloc/api/job.h"
#include "emloc/io/model_files.h"
#include "emloc/stages/train_loop.h"
#include "emloc/text/dataset_preview.h"
#include "emloc/text/dataset_tokenize.h"
#include "emloc/text/model_text.h"
#include "emloc/vision/vision_language_model.h"

#include <string>

namespace emloc::core {

struct LoraTrainingData
{
    std::string path;              // the training file
    PrepareOptions prepare;        // record format, length, system prompt, prompt masking
    double validationFraction = 0; // held out for the validation loss (drawn with TrainOptions::seed)
};

// The examples of `data` read with `text` (the original model's tokenizer and template; an emulator
// shares them), split into training and validation.
DatasetSplit prepareTrainingSplit(const LoraTrainingData &data, const ModelText &text, int64_t seed,
                                  Feedback &feedback);

// LoRA on `model` with `options` on `device` (`dtype` "auto": fp32 on the CPU, bf16 on CUDA), on the
// split of prepareTrainingSplit (logged). A packing length of 0 becomes the data's maximum length.
// With `vision` (the vision-language model `model` is the language model or its emulator of), records
// keep their images: their tokens are expanded and each batch's images run through its frozen tower.
TrainResult trainLora(const ModelFiles &model, const ModelText &text, const LoraTrainingData &data,
                      TrainOptions options, const std::string &device, const std::string &dtype,
                      Feedback &feedback, const VisionLanguageFiles *vision = nullptr);

} // namespace emloc::core
