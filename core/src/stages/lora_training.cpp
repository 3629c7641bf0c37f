#include "emloc/stages/lora_training.h"

#include "emloc/api/device.h"
#include "emloc/model/causal_lm.h"
#include "emloc/stages/image_inputs.h"

#include <optional>

namespace emloc::core {

DatasetSplit prepareTrainingSplit(const LoraTrainingData &data, const ModelText &text, int64_t seed,
                                  Feedback &feedback)
{
    PreparedDataset prepared =
        prepareDataset(data.path, text.chatTemplate, *text.tokenizer, data.prepare, &feedback);
    return splitTrainValidation(std::move(prepared.examples), data.validationFraction, 0, seed);
}

TrainResult trainLora(const ModelFiles &model, const ModelText &text, const LoraTrainingData &data,
                      TrainOptions options, const std::string &device, const std::string &dtype,
                      Feedback &feedback, const VisionLanguageFiles *vision)
{
    LoraTrainingData read = data;
    if (vision)
        read.prepare.images = datasetImageTokens(*vision, data.path);
    const DatasetSplit split = prepareTrainingSplit(read, text, options.seed, feedback);
    feedback.log(LogLevel::Info, std::to_string(split.train.size()) + " training and " +
                                     std::to_string(split.validation.size()) + " validation examples.");
    if (options.packing && options.packLength == 0)
        options.packLength = data.prepare.tokenize.maxLength;
    CausalLMOptions modelOptions;
    modelOptions.placement.device = torch::Device(parseDevice(device).toString());
    modelOptions.placement.dtype = parseComputeDtype(dtype, modelOptions.placement.device);
    CausalLM lm(model, modelOptions, &feedback);
    LoraTrainer trainer(lm, std::move(options));
    std::optional<ImageInputs> images;
    if (vision) {
        images.emplace(*vision, modelOptions.placement);
        trainer.setImageInputs(&*images);
    }
    return trainer.run(split.train, split.validation, feedback);
}

} // namespace emloc::core
