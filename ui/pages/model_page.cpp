#include "pages/model_page.h"

#include "format.h"
#include "project/project.h"
#include "widgets/path_field.h"
#include "widgets/validation_label.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QVBoxLayout>

namespace emloc::ui {

namespace {
QString formatCount(qint64 count)
{
    return count > 0 ? QLocale().toString(count) : QStringLiteral("–");
}

QString formatParameters(qint64 parameters)
{
    if (parameters <= 0)
        return QStringLiteral("–");
    const double billions = static_cast<double>(parameters) / 1e9;
    const QString shortForm = billions >= 1
                                  ? ModelPage::tr("%1 B").arg(QLocale().toString(billions, 'f', 2))
                                  : ModelPage::tr("%1 M").arg(QLocale().toString(billions * 1e3, 'f', 1));
    return ModelPage::tr("%1 (%2)").arg(shortForm, QLocale().toString(parameters));
}
} // namespace

ModelPage::ModelPage(QWidget *parent)
    : ProjectPage(
          tr("Model"),
          tr("The model to fine-tune. Its weights stay on disk: every stage reads them layer by layer."),
          Scrolling::Vertical, parent)
{
    setObjectName(QStringLiteral("modelPage"));

    auto *source = new QGroupBox(tr("Base model"), this);
    auto *sourceLayout = new QVBoxLayout(source);
    auto *label = new QLabel(tr("&Location:"), source);
    m_path = new PathField(PathField::Kind::ExistingFileOrFolder, tr("Choose the base model"),
                           tr("GGUF models (*.gguf);;All files (*)"), source);
    m_path->setObjectName(QStringLiteral("modelPath"));
    m_path->setPlaceholderText(tr("A Hugging Face model folder or a .gguf file"));
    m_path->setToolTip(tr("The folder with config.json and *.safetensors, or a single GGUF file."));
    label->setBuddy(m_path->lineEdit());
    m_validation = new ValidationLabel(source);
    auto *hint = new QLabel(tr("Supported: Llama-family decoders (Llama, Qwen2, SmolLM) as Hugging Face "
                               "safetensors or GGUF (F32, F16, BF16, Q8_0, Q4_0, Q4_1, K-quants)."),
                            source);
    hint->setObjectName(QStringLiteral("hint"));
    hint->setWordWrap(true);
    sourceLayout->addWidget(label);
    sourceLayout->addWidget(m_path);
    sourceLayout->addWidget(m_validation);
    sourceLayout->addWidget(hint);
    contentLayout()->addWidget(source);

    m_details = new QGroupBox(tr("What the model's files say"), this);
    auto *form = new QFormLayout(m_details);
    form->setLabelAlignment(Qt::AlignRight);
    form->setHorizontalSpacing(18);
    form->setVerticalSpacing(8);
    auto value = [this]() {
        auto *valueLabel = new QLabel(QStringLiteral("–"), m_details);
        valueLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
        return valueLabel;
    };
    m_name = value();
    m_format = value();
    m_architecture = value();
    m_layers = value();
    m_hidden = value();
    m_vocabulary = value();
    m_context = value();
    m_parameters = value();
    m_storage = value();
    m_size = value();
    m_visionTower = value();
    m_projector = value();
    m_imageTiles = value();
    for (QLabel *label : {m_visionTower, m_projector, m_imageTiles})
        label->setWordWrap(true);
    form->addRow(tr("Name:"), m_name);
    form->addRow(tr("Format:"), m_format);
    form->addRow(tr("Architecture:"), m_architecture);
    form->addRow(tr("Decoder layers:"), m_layers);
    form->addRow(tr("Hidden size:"), m_hidden);
    form->addRow(tr("Vocabulary:"), m_vocabulary);
    form->addRow(tr("Context length:"), m_context);
    form->addRow(tr("Parameters:"), m_parameters);
    form->addRow(tr("Stored as:"), m_storage);
    form->addRow(tr("Size on disk:"), m_size);
    form->addRow(tr("Vision tower:"), m_visionTower);
    form->addRow(tr("Projector:"), m_projector);
    form->addRow(tr("Image tiles:"), m_imageTiles);
    m_form = form;
    contentLayout()->addWidget(m_details);
    contentLayout()->addStretch(1);

    connect(m_path, &PathField::pathChanged, this, [this](const QString &path) {
        inspect(path);
        Q_EMIT changed();
    });
    inspect({});
}

void ModelPage::readFrom(const Project &project)
{
    m_path->setPath(project.modelPath);
    inspect(project.modelPath);
}

void ModelPage::writeTo(Project &project) const
{
    project.modelPath = m_path->path();
}

QString ModelPage::problem() const
{
    if (m_path->path().isEmpty())
        return tr("Choose the model to fine-tune on the Model page.");
    if (!m_summary.ok())
        return m_summary.error;
    return {};
}

void ModelPage::setInspector(ModelInspector inspector)
{
    m_inspector = std::move(inspector);
    inspect(m_path->path());
}

void ModelPage::inspect(const QString &path)
{
    m_summary = path.isEmpty() || !m_inspector ? ModelSummary() : m_inspector(path);
    if (path.isEmpty() || !m_inspector)
        m_validation->clear();
    else if (!m_summary.error.isEmpty())
        m_validation->setMessage(ValidationLabel::State::Error, m_summary.error);
    else if (!m_summary.warnings.isEmpty())
        m_validation->setMessage(ValidationLabel::State::Warning, m_summary.warnings.join(QLatin1Char(' ')));
    else
        m_validation->setMessage(ValidationLabel::State::Ok, tr("The model's files are complete."));

    // The facts of files that were read are shown even when the model cannot be used (a vision-language
    // model): they say what the model is.
    const bool ok = m_summary.read();
    const auto text = [ok](const QString &value) {
        return ok && !value.isEmpty() ? value : QStringLiteral("–");
    };
    m_name->setText(text(m_summary.name));
    QString format;
    if (m_summary.format == ModelSummary::Format::HuggingFaceFolder)
        format = tr("Hugging Face folder, %n safetensors file(s)", nullptr, m_summary.weightFiles);
    else if (m_summary.format == ModelSummary::Format::Gguf)
        format = tr("GGUF file");
    m_format->setText(text(format));
    m_architecture->setText(text(m_summary.architecture));
    m_layers->setText(ok ? formatCount(m_summary.layers) : QStringLiteral("–"));
    m_hidden->setText(ok ? formatCount(m_summary.hiddenSize) : QStringLiteral("–"));
    m_vocabulary->setText(ok ? formatCount(m_summary.vocabularySize) : QStringLiteral("–"));
    m_context->setText(ok ? formatCount(m_summary.contextLength) : QStringLiteral("–"));
    m_parameters->setText(ok ? formatParameters(m_summary.parameters) : QStringLiteral("–"));
    m_storage->setText(text(m_summary.storageType));
    m_size->setText(ok ? formatBytes(m_summary.sizeOnDiskBytes) : QStringLiteral("–"));
    const bool vision = !m_summary.visionTower.isEmpty();
    const auto withParameters = [this](const QString &part, qint64 parameters) {
        return part.isEmpty() ? part : tr("%1; parameters: %2").arg(part, formatParameters(parameters));
    };
    m_visionTower->setText(text(withParameters(m_summary.visionTower, m_summary.visionTowerParameters)));
    m_projector->setText(text(withParameters(m_summary.projector, m_summary.projectorParameters)));
    m_imageTiles->setText(text(m_summary.imageTiles));
    for (QLabel *label : {m_visionTower, m_projector, m_imageTiles})
        m_form->setRowVisible(label, vision);
    m_details->setEnabled(ok);
}

} // namespace emloc::ui
