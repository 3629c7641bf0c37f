#include "inspect/model_inspector.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtEndian>

#include <stdexcept>

namespace emloc::ui {

namespace {

ModelSummary failure(ModelSummary::Format format, const QString &error, const QString &whatToDo)
{
    ModelSummary summary;
    summary.format = format;
    summary.error = error;
    summary.whatToDo = whatToDo;
    return summary;
}

// Counts the parameters listed in one safetensors header (8-byte length + JSON).
qint64 safetensorsParameters(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = file.errorString();
        return 0;
    }
    const QByteArray lengthBytes = file.read(8);
    if (lengthBytes.size() != 8) {
        *error = QStringLiteral("file shorter than 8 bytes");
        return 0;
    }
    const quint64 length = qFromLittleEndian<quint64>(lengthBytes.constData());
    if (length == 0 || length > 100u * 1024 * 1024 || static_cast<qint64>(8 + length) > file.size()) {
        *error = QStringLiteral("header length %1 does not fit the file").arg(length);
        return 0;
    }
    QJsonParseError parseError;
    const QJsonDocument header = QJsonDocument::fromJson(file.read(static_cast<qint64>(length)), &parseError);
    if (!header.isObject()) {
        *error = parseError.errorString();
        return 0;
    }
    qint64 parameters = 0;
    const QJsonObject tensors = header.object();
    for (auto it = tensors.begin(); it != tensors.end(); ++it) {
        if (it.key() == QLatin1String("__metadata__"))
            continue;
        qint64 count = 1;
        for (const QJsonValue &dimension : it.value().toObject().value("shape").toArray())
            count *= dimension.toInteger();
        parameters += count;
    }
    return parameters;
}

ModelSummary inspectFolder(const QString &path)
{
    const QDir dir(path);
    const QString configPath = dir.filePath(QStringLiteral("config.json"));
    if (!QFileInfo::exists(configPath))
        return failure(
            ModelSummary::Format::HuggingFaceFolder,
            QCoreApplication::translate("emloc::ui::ModelInspector", "The folder has no config.json."),
            QCoreApplication::translate(
                "emloc::ui::ModelInspector",
                "Choose the folder of a Hugging Face model (it holds config.json and *.safetensors "
                "files), or a single .gguf file."));
    QFile configFile(configPath);
    if (!configFile.open(QIODevice::ReadOnly))
        return failure(
            ModelSummary::Format::HuggingFaceFolder,
            QCoreApplication::translate("emloc::ui::ModelInspector", "Cannot read %1: %2.")
                .arg(configPath, configFile.errorString()),
            QCoreApplication::translate("emloc::ui::ModelInspector", "Check the file's permissions."));
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(configFile.readAll(), &parseError);
    if (!document.isObject())
        return failure(
            ModelSummary::Format::HuggingFaceFolder,
            QCoreApplication::translate("emloc::ui::ModelInspector", "config.json is not valid JSON: %1.")
                .arg(parseError.errorString()),
            QCoreApplication::translate("emloc::ui::ModelInspector",
                                        "Download the model again; the file is damaged."));

    ModelSummary summary;
    summary.format = ModelSummary::Format::HuggingFaceFolder;
    const QJsonObject config = document.object();
    const QJsonArray architectures = config.value("architectures").toArray();
    summary.architecture =
        architectures.isEmpty() ? config.value("model_type").toString() : architectures.first().toString();
    summary.name = config.value("_name_or_path").toString();
    if (summary.name.isEmpty())
        summary.name = dir.dirName();
    summary.layers = config.value("num_hidden_layers").toInt();
    summary.hiddenSize = config.value("hidden_size").toInt();
    summary.vocabularySize = config.value("vocab_size").toInt();
    summary.contextLength = config.value("max_position_embeddings").toInt();
    summary.storageType = config.value("torch_dtype").toString();

    const QFileInfoList weights =
        dir.entryInfoList({QStringLiteral("*.safetensors")}, QDir::Files | QDir::Readable, QDir::Name);
    if (weights.isEmpty()) {
        if (!dir.entryList({QStringLiteral("*.bin"), QStringLiteral("*.pt"), QStringLiteral("*.pth")},
                           QDir::Files)
                 .isEmpty())
            return failure(
                ModelSummary::Format::HuggingFaceFolder,
                QCoreApplication::translate(
                    "emloc::ui::ModelInspector",
                    "The model's weights are PyTorch pickle files (.bin), not safetensors."),
                QCoreApplication::translate("emloc::ui::ModelInspector",
                                            "Convert them once with Python: model.save_pretrained(folder, "
                                            "safe_serialization=True)."));
        return failure(
            ModelSummary::Format::HuggingFaceFolder,
            QCoreApplication::translate("emloc::ui::ModelInspector",
                                        "The folder has no *.safetensors weight files."),
            QCoreApplication::translate("emloc::ui::ModelInspector",
                                        "Download the model's safetensors files into this folder."));
    }
    for (const QFileInfo &weight : weights) {
        QString error;
        summary.parameters += safetensorsParameters(weight.absoluteFilePath(), &error);
        if (!error.isEmpty())
            return failure(
                ModelSummary::Format::HuggingFaceFolder,
                QCoreApplication::translate("emloc::ui::ModelInspector",
                                            "%1 is not a valid safetensors file (%2).")
                    .arg(weight.fileName(), error),
                QCoreApplication::translate("emloc::ui::ModelInspector",
                                            "Download the file again; it is incomplete or damaged."));
        summary.sizeOnDiskBytes += weight.size();
    }
    summary.weightFiles = static_cast<int>(weights.size());
    if (!QFileInfo::exists(dir.filePath(QStringLiteral("tokenizer.json"))))
        summary.warnings << QCoreApplication::translate(
            "emloc::ui::ModelInspector",
            "There is no tokenizer.json in the folder; the tokenizer cannot be loaded without it.");
    if (summary.layers <= 0 || summary.hiddenSize <= 0)
        summary.warnings << QCoreApplication::translate(
            "emloc::ui::ModelInspector", "config.json does not give num_hidden_layers and hidden_size.");
    return summary;
}

// A minimal little-endian reader over a GGUF header; throws std::runtime_error on truncation.
class GgufReader
{
public:
    explicit GgufReader(QFile &file) : m_file(file) {}

    template <typename T> T read()
    {
        T value;
        readRaw(reinterpret_cast<char *>(&value), sizeof(T));
        return qFromLittleEndian(value);
    }
    QByteArray readString()
    {
        const quint64 length = read<quint64>();
        if (length > 64u * 1024 * 1024)
            throw std::runtime_error("string length out of range");
        QByteArray bytes(static_cast<qsizetype>(length), Qt::Uninitialized);
        readRaw(bytes.data(), bytes.size());
        return bytes;
    }
    void skip(qint64 bytes)
    {
        if (!m_file.seek(m_file.pos() + bytes) || m_file.pos() > m_file.size())
            throw std::runtime_error("unexpected end of file");
    }

private:
    void readRaw(char *data, qint64 size)
    {
        if (m_file.read(data, size) != size)
            throw std::runtime_error("unexpected end of file");
    }
    QFile &m_file;
};

enum GgufType : quint32 { U8 = 0, I8, U16, I16, U32, I32, F32, Bool, String, Array, U64, I64, F64 };

qint64 scalarSize(quint32 type)
{
    switch (type) {
    case U8:
    case I8:
    case Bool:
        return 1;
    case U16:
    case I16:
        return 2;
    case U32:
    case I32:
    case F32:
        return 4;
    case U64:
    case I64:
    case F64:
        return 8;
    default:
        return -1;
    }
}

QVariant readValue(GgufReader &reader, quint32 type)
{
    switch (type) {
    case U8:
        return reader.read<quint8>();
    case I8:
        return reader.read<qint8>();
    case U16:
        return reader.read<quint16>();
    case I16:
        return reader.read<qint16>();
    case U32:
        return reader.read<quint32>();
    case I32:
        return reader.read<qint32>();
    case F32:
        return reader.read<float>();
    case Bool:
        return reader.read<quint8>() != 0;
    case String:
        return QString::fromUtf8(reader.readString());
    case U64:
        return reader.read<quint64>();
    case I64:
        return reader.read<qint64>();
    case F64:
        return reader.read<double>();
    case Array: {
        const quint32 itemType = reader.read<quint32>();
        const quint64 count = reader.read<quint64>();
        if (itemType == String) {
            for (quint64 i = 0; i < count; ++i)
                reader.readString();
        } else if (scalarSize(itemType) > 0) {
            reader.skip(scalarSize(itemType) * static_cast<qint64>(count));
        } else {
            throw std::runtime_error("unsupported array type");
        }
        return {};
    }
    default:
        throw std::runtime_error("unknown value type " + std::to_string(type));
    }
}

QString ggufTensorType(quint32 type)
{
    static const char *names[] = {"F32",  "F16",  "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1",
                                  "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K"};
    if (type < sizeof(names) / sizeof(names[0]))
        return QString::fromLatin1(names[type]);
    return type == 30 ? QStringLiteral("BF16") : QStringLiteral("type %1").arg(type);
}

ModelSummary inspectGguf(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return failure(
            ModelSummary::Format::Gguf,
            QCoreApplication::translate("emloc::ui::ModelInspector", "Cannot read %1: %2.")
                .arg(path, file.errorString()),
            QCoreApplication::translate("emloc::ui::ModelInspector", "Check the file's permissions."));
    ModelSummary summary;
    summary.format = ModelSummary::Format::Gguf;
    summary.sizeOnDiskBytes = file.size();
    summary.weightFiles = 1;
    try {
        GgufReader reader(file);
        if (reader.read<quint32>() != 0x46554747u) // "GGUF"
            return failure(
                ModelSummary::Format::Gguf,
                QCoreApplication::translate("emloc::ui::ModelInspector", "%1 is not a GGUF file.")
                    .arg(QFileInfo(path).fileName()),
                QCoreApplication::translate("emloc::ui::ModelInspector",
                                            "Choose a .gguf model file or a Hugging Face model folder."));
        const quint32 version = reader.read<quint32>();
        if (version < 2 || version > 3)
            return failure(
                ModelSummary::Format::Gguf,
                QCoreApplication::translate("emloc::ui::ModelInspector", "GGUF version %1 is not supported.")
                    .arg(version),
                QCoreApplication::translate("emloc::ui::ModelInspector",
                                            "Convert the model with a current llama.cpp (GGUF version 3)."));
        const quint64 tensorCount = reader.read<quint64>();
        const quint64 keyCount = reader.read<quint64>();
        QString architecture;
        QHash<QString, QVariant> values;
        for (quint64 i = 0; i < keyCount; ++i) {
            const QString key = QString::fromUtf8(reader.readString());
            values.insert(key, readValue(reader, reader.read<quint32>()));
        }
        architecture = values.value(QStringLiteral("general.architecture")).toString();
        if (values.value(QStringLiteral("general.type")).toString() == QLatin1String("adapter"))
            return failure(ModelSummary::Format::Gguf,
                           QCoreApplication::translate("emloc::ui::ModelInspector",
                                                       "This GGUF file is a LoRA adapter, not a model."),
                           QCoreApplication::translate("emloc::ui::ModelInspector",
                                                       "Choose the base model's GGUF file."));
        summary.architecture = architecture;
        summary.name = values.value(QStringLiteral("general.name")).toString();
        summary.layers = values.value(architecture + QStringLiteral(".block_count")).toInt();
        summary.hiddenSize = values.value(architecture + QStringLiteral(".embedding_length")).toInt();
        summary.contextLength = values.value(architecture + QStringLiteral(".context_length")).toInt();
        summary.vocabularySize = values.value(architecture + QStringLiteral(".vocab_size")).toInt();

        QHash<quint32, qint64> parametersByType;
        for (quint64 i = 0; i < tensorCount; ++i) {
            const QByteArray name = reader.readString();
            const quint32 dimensions = reader.read<quint32>();
            if (dimensions > 8)
                throw std::runtime_error("tensor with more than 8 dimensions");
            qint64 count = 1;
            for (quint32 d = 0; d < dimensions; ++d)
                count *= static_cast<qint64>(reader.read<quint64>());
            const quint32 type = reader.read<quint32>();
            reader.read<quint64>(); // data offset
            summary.parameters += count;
            parametersByType[type] += count;
            if (summary.vocabularySize == 0 && name == "token_embd.weight")
                summary.vocabularySize = static_cast<int>(count / std::max(1, summary.hiddenSize));
        }
        // The storage type that holds most parameters names the file ("Q4_1").
        qint64 most = -1;
        for (auto it = parametersByType.begin(); it != parametersByType.end(); ++it) {
            if (it.value() > most) {
                most = it.value();
                summary.storageType = ggufTensorType(it.key());
            }
        }
    } catch (const std::exception &e) {
        return failure(
            ModelSummary::Format::Gguf,
            QCoreApplication::translate("emloc::ui::ModelInspector", "%1 is damaged or truncated (%2).")
                .arg(QFileInfo(path).fileName(), QString::fromUtf8(e.what())),
            QCoreApplication::translate("emloc::ui::ModelInspector", "Download the file again."));
    }
    if (summary.name.isEmpty())
        summary.name = QFileInfo(path).completeBaseName();
    return summary;
}

} // namespace

ModelSummary inspectModel(const QString &path)
{
    if (path.isEmpty())
        return {};
    const QFileInfo info(path);
    if (!info.exists())
        return failure(ModelSummary::Format::None,
                       QCoreApplication::translate("emloc::ui::ModelInspector", "%1 does not exist.")
                           .arg(QDir::toNativeSeparators(path)),
                       QCoreApplication::translate(
                           "emloc::ui::ModelInspector",
                           "Check the path, or choose the model with the Folder… or File… button."));
    if (info.isDir())
        return inspectFolder(path);
    if (info.suffix().compare(QLatin1String("gguf"), Qt::CaseInsensitive) == 0)
        return inspectGguf(path);
    if (info.fileName() == QLatin1String("config.json") || info.suffix() == QLatin1String("safetensors"))
        return inspectFolder(info.absolutePath());
    return failure(
        ModelSummary::Format::None,
        QCoreApplication::translate("emloc::ui::ModelInspector",
                                    "%1 is neither a model folder nor a GGUF file.")
            .arg(info.fileName()),
        QCoreApplication::translate("emloc::ui::ModelInspector",
                                    "Choose the folder of a Hugging Face model, or a single .gguf file."));
}

} // namespace emloc::ui
