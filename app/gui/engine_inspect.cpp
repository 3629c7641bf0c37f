#include "engine_inspect.h"

#include "emloc/io/model_files.h"
#include "emloc/model/model_summary.h"
#include "emloc/text/dataset_overview.h"
#include "emloc/vision/image_prompt.h"
#include "emloc/vision/internvl_adapter.h"
#include "emloc/vision/internvl_weights.h"
#include "emloc/vision/vision_language_model.h"

#include <QObject>

#include <filesystem>
#include <optional>

namespace emloc::gui {

namespace {

// Core's messages are clauses ("the folder ... has no config.json: ..."); the pages show sentences.
QString sentence(const std::exception &error)
{
    QString text = QString::fromStdString(error.what()).trimmed();
    if (!text.isEmpty())
        text[0] = text[0].toUpper();
    if (!text.endsWith(QLatin1Char('.')))
        text += QLatin1Char('.');
    return text;
}

// Weight files and their size: the .gguf itself, or the folder's safetensors files.
void weightFilesOn(const std::filesystem::path &path, ui::ModelSummary &summary)
{
    std::error_code error;
    if (!std::filesystem::is_directory(path, error)) {
        summary.weightFiles = 1;
        summary.sizeOnDiskBytes = static_cast<qint64>(std::filesystem::file_size(path, error));
        return;
    }
    for (const auto &entry : std::filesystem::directory_iterator(path, error)) {
        if (entry.path().extension() == ".safetensors" && entry.is_regular_file(error)) {
            ++summary.weightFiles;
            summary.sizeOnDiskBytes += static_cast<qint64>(entry.file_size(error));
        }
    }
}

// A record's image as the Data page shows it: decoded by the engine's own decoders (what training reads),
// scaled down; an image that cannot be read says why.
ui::DatasetSummary::Image thumbnailOf(const std::string &source, const std::string &name)
{
    constexpr int kThumbnailHeight = 64;
    ui::DatasetSummary::Image shown;
    try {
        const core::RgbImage image = core::readImageSource(source, name);
        const QImage pixels(image.pixels.data(), static_cast<int>(image.width),
                            static_cast<int>(image.height), static_cast<qsizetype>(image.width * 3),
                            QImage::Format_RGB888);
        // copy(): scaled() to the size it already has returns the same image, still on `image`'s pixels.
        shown.thumbnail = pixels.copy().scaled(kThumbnailHeight * 2, kThumbnailHeight, Qt::KeepAspectRatio,
                                               Qt::SmoothTransformation);
        shown.note = source.rfind("data:", 0) == 0
                         ? QObject::tr("an image in the record (%1 x %2)").arg(image.width).arg(image.height)
                         : QObject::tr("%1 (%2 x %3)")
                               .arg(QString::fromStdString(std::filesystem::path(source).filename().string()))
                               .arg(image.width)
                               .arg(image.height);
    } catch (const std::exception &error) {
        shown.note = sentence(error);
    }
    return shown;
}

// The vision tower, projector and tiling in words.
void describeVisionParts(const core::VisionLanguageFiles &vision, ui::ModelSummary &summary)
{
    const core::VisionTowerConfig &tower = vision.config.vision;
    const core::VisionParameterCounts counts = core::countVisionParameters(*vision.weights);
    const int64_t factor = vision.config.unshuffleFactor;
    summary.visionTower = QObject::tr("InternViT, %1 layers, hidden size %2, %3 heads, %4-pixel patches")
                              .arg(tower.numLayers)
                              .arg(tower.hiddenSize)
                              .arg(tower.numHeads)
                              .arg(tower.patchSize);
    summary.projector = QObject::tr("pixel-unshuffle x%1, MLP %2 → %3 → %3")
                            .arg(factor)
                            .arg(tower.hiddenSize * factor * factor)
                            .arg(vision.config.language.hiddenSize);
    summary.visionTowerParameters = counts.tower;
    summary.projectorParameters = counts.projector;
    summary.imageTiles = QObject::tr("%1-pixel tiles, %2 to %3 an image%4; %5 tokens a tile")
                             .arg(vision.tiling.tileSize)
                             .arg(vision.tiling.minTiles)
                             .arg(vision.tiling.maxTiles)
                             .arg(vision.tiling.thumbnail ? QObject::tr(" plus a thumbnail") : QString())
                             .arg(vision.config.tokensPerTile(vision.tiling.tileSize));
    summary.parameters += counts.tower + counts.projector;
}

} // namespace

ui::ModelSummary EngineInspection::model(const QString &path)
{
    ui::ModelSummary summary;
    try {
        std::optional<core::VisionLanguageFiles> vision;
        if (core::isVisionLanguageFolder(path.toStdString()))
            vision = core::openVisionLanguageModel(path.toStdString());
        const core::ModelFiles files = vision ? vision->language : core::openModel(path.toStdString());
        const core::ModelConfig &config = files.config;
        const bool gguf = files.format == "gguf";
        summary.format = gguf ? ui::ModelSummary::Format::Gguf : ui::ModelSummary::Format::HuggingFaceFolder;
        const std::filesystem::path where(files.path);
        summary.name = QString::fromStdString((gguf ? where.stem() : where.filename()).string());
        if (summary.name.isEmpty()) // a folder given with a trailing slash
            summary.name = QString::fromStdString(where.parent_path().filename().string());
        const nlohmann::json &raw = vision ? vision->config.raw : config.raw;
        const auto &architectures =
            raw.is_object() ? raw.value("architectures", nlohmann::json()) : nlohmann::json();
        summary.architecture = QString::fromStdString(
            !gguf && architectures.is_array() && !architectures.empty() && architectures[0].is_string()
                ? architectures[0].get<std::string>()
                : config.modelType);
        summary.layers = static_cast<int>(config.numLayers);
        summary.hiddenSize = static_cast<int>(config.hiddenSize);
        summary.vocabularySize = static_cast<int>(config.vocabSize);
        summary.contextLength = static_cast<int>(config.maxPositionEmbeddings);
        summary.parameters = core::countParameters(files).total();
        const auto types = core::storedTypes(files);
        summary.storageType =
            QString::fromStdString(gguf && !types.empty() ? types.front().type : config.torchDtype);
        weightFilesOn(where, summary);
        if (!files.tokenizerJson.is_object() || files.tokenizerJson.empty())
            summary.warnings << QObject::tr(
                "The model has no tokenizer (tokenizer.json): add it to the folder, "
                "or training cannot read the data.");
        if (vision)
            describeVisionParts(*vision, summary);
    } catch (const std::exception &error) {
        summary = {};
        summary.error = sentence(error);
    }
    return summary;
}

ui::DatasetSummary EngineInspection::dataset(const QString &path)
{
    ui::DatasetSummary summary;
    try {
        core::DatasetOverviewOptions options;
        options.previewRecords = ui::kPreviewRecords;
        const core::DatasetOverview overview = core::overviewDataset(path.toStdString(), options);
        summary.fileType = QString::fromStdString(overview.fileType);
        summary.format = QString::fromStdString(overview.format);
        summary.records = overview.records;
        summary.recordsEstimated = overview.recordsEstimated;
        summary.sizeBytes = overview.sizeBytes;
        for (const auto &record : overview.preview) {
            ui::DatasetSummary::Record shown{
                QString::fromStdString(record.input), QString::fromStdString(record.target), {}};
            for (size_t i = 0; i < record.images.size(); ++i)
                shown.images.push_back(thumbnailOf(record.images[i], path.toStdString() + ": record " +
                                                                         std::to_string(record.record) +
                                                                         ", image " + std::to_string(i + 1)));
            summary.preview.push_back(std::move(shown));
        }
    } catch (const std::exception &error) {
        summary = {};
        summary.error = sentence(error);
    }
    return summary;
}

} // namespace emloc::gui
