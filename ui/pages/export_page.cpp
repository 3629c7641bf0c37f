#include "pages/export_page.h"

#include "project/project.h"
#include "widgets/path_field.h"
#include "widgets/validation_label.h"

#include "emloc/api/run_folder.h"

#include <QCheckBox>
#include <QDir>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

namespace emloc::ui {

namespace {
// Where a run and the Export button write the formats, inside the output folder (core's run layout).
QString exportFolder(const QString &runFolder)
{
    return QString::fromStdString(core::RunFolder{runFolder.toStdString()}.exports().string());
}
} // namespace

ExportPage::ExportPage(QWidget *parent)
    : ProjectPage(
          tr("Export"),
          tr("Write the corrected LoRA for the original model, ready for Transformers, PEFT, llama.cpp or "
             "Ollama."),
          Scrolling::Vertical, parent)
{
    setObjectName(QStringLiteral("exportPage"));

    auto *destination = new QGroupBox(tr("Destination"), this);
    auto *destinationLayout = new QVBoxLayout(destination);
    auto *folderLabel = new QLabel(tr("Output &folder:"), destination);
    m_folder = new PathField(PathField::Kind::Folder, tr("Choose the output folder"), QString(), destination);
    m_folder->setObjectName(QStringLiteral("outputFolder"));
    m_folder->setPlaceholderText(tr("A folder for the adapter and the run's report"));
    m_folder->setToolTip(tr("Created when it does not exist; files are written under a temporary name and "
                            "renamed when complete."));
    folderLabel->setBuddy(m_folder->lineEdit());
    m_folderValidation = new ValidationLabel(destination);
    destinationLayout->addWidget(folderLabel);
    destinationLayout->addWidget(m_folder);
    destinationLayout->addWidget(m_folderValidation);
    contentLayout()->addWidget(destination);

    auto *formats = new QGroupBox(tr("Formats"), this);
    auto *formatsLayout = new QVBoxLayout(formats);
    formatsLayout->setSpacing(2);
    m_peft =
        addFormat(formatsLayout, tr("&PEFT LoRA adapter"),
                  tr("adapter_model.safetensors and adapter_config.json: loads with PEFT onto the original "
                     "Hugging Face model."));
    m_merged = addFormat(
        formatsLayout, tr("&Merged model"),
        tr("The original model with the LoRA merged in, as safetensors: needs disk space for a full "
           "copy."));
    m_gguf = addFormat(formatsLayout, tr("&GGUF LoRA adapter"),
                       tr("For llama.cpp, Ollama and LM Studio, next to the original model's GGUF file."));
    m_ollama = addFormat(
        formatsLayout, tr("&Ollama model folder"),
        tr("A Modelfile with the base model as GGUF (with a vision-language model's projector) and the "
           "adapter: in that folder, "
           "\"ollama create NAME -f Modelfile\" makes the model Ollama runs."));
    m_mmproj = addFormat(formatsLayout, tr("&Vision projector (mmproj GGUF)"),
                         tr("Vision-language models: the vision tower and projector for llama.cpp "
                            "(llama-mtmd-cli, llama-server --mmproj), beside the language model's GGUF."));
    m_mmproj->setObjectName(QStringLiteral("visionProjectorFormat"));
    m_mmproj->setEnabled(false);
    contentLayout()->addWidget(formats);

    auto *action = new QGroupBox(tr("Export"), this);
    auto *actionLayout = new QHBoxLayout(action);
    m_export = new QPushButton(QIcon(QStringLiteral(":/icons/export.svg")), tr("E&xport"), action);
    m_export->setObjectName(QStringLiteral("primary"));
    m_export->setToolTip(tr("Write the chosen formats into the output folder."));
    m_exportHint = new QLabel(action);
    m_exportHint->setObjectName(QStringLiteral("hint"));
    m_exportHint->setWordWrap(true);
    actionLayout->addWidget(m_export);
    actionLayout->addWidget(m_exportHint, 1);
    contentLayout()->addWidget(action);
    contentLayout()->addStretch(1);

    connect(m_folder, &PathField::pathChanged, this, [this] {
        validateFolder();
        updateButton();
        Q_EMIT changed();
    });
    connect(m_export, &QPushButton::clicked, this, &ExportPage::exportRequested);
    readFrom(Project());
}

QCheckBox *ExportPage::addFormat(QLayout *layout, const QString &text, const QString &description)
{
    auto *box = new QCheckBox(text, this);
    box->setToolTip(description);
    auto *hint = new QLabel(description, this);
    hint->setObjectName(QStringLiteral("hint"));
    hint->setWordWrap(true);
    hint->setIndent(box->style()->pixelMetric(QStyle::PM_IndicatorWidth) + 8);
    layout->addWidget(box);
    layout->addWidget(hint);
    layout->addItem(new QSpacerItem(0, 6));
    connect(box, &QCheckBox::toggled, this, [this] {
        updateButton();
        Q_EMIT changed();
    });
    return box;
}

void ExportPage::readFrom(const Project &project)
{
    const QSignalBlocker blockPeft(m_peft);
    const QSignalBlocker blockMerged(m_merged);
    const QSignalBlocker blockGguf(m_gguf);
    const QSignalBlocker blockOllama(m_ollama);
    const QSignalBlocker blockProjector(m_mmproj);
    m_folder->setPath(project.exportSettings.outputFolder);
    m_peft->setChecked(project.exportSettings.peftAdapter);
    m_merged->setChecked(project.exportSettings.mergedModel);
    m_gguf->setChecked(project.exportSettings.ggufAdapter);
    m_ollama->setChecked(project.exportSettings.ollama);
    m_mmproj->setChecked(project.exportSettings.visionProjector);
    validateFolder();
    updateButton();
}

void ExportPage::writeTo(Project &project) const
{
    project.exportSettings.outputFolder = m_folder->path();
    project.exportSettings.peftAdapter = m_peft->isChecked();
    project.exportSettings.mergedModel = m_merged->isChecked();
    project.exportSettings.ggufAdapter = m_gguf->isChecked();
    project.exportSettings.ollama = m_ollama->isChecked();
    project.exportSettings.visionProjector = m_mmproj->isChecked();
}

QString ExportPage::problem() const
{
    if (m_folder->path().isEmpty())
        return tr("Choose an output folder on the Export page.");
    if (m_folderValidation->state() == ValidationLabel::State::Error)
        return m_folderValidation->text();
    if (!m_peft->isChecked() && !m_merged->isChecked() && !m_gguf->isChecked() && !m_ollama->isChecked() &&
        !m_mmproj->isChecked())
        return tr("Choose at least one format on the Export page.");
    return {};
}

void ExportPage::setVisionLanguage(bool visionLanguage)
{
    m_mmproj->setEnabled(visionLanguage);
    if (!visionLanguage && m_mmproj->isChecked())
        m_mmproj->setChecked(false); // a text model has no projector: the run would refuse it
}

void ExportPage::setExportAvailable(bool available, const QString &reason)
{
    m_available = available;
    m_exportHint->setText(reason);
    validateFolder(); // a run that just ended may have created the folder
    updateButton();
}

void ExportPage::showEvent(QShowEvent *event)
{
    ProjectPage::showEvent(event);
    validateFolder();
    updateButton();
}

void ExportPage::validateFolder()
{
    const QString path = m_folder->path();
    if (path.isEmpty()) {
        m_folderValidation->clear();
        return;
    }
    const QFileInfo info(path);
    if (info.exists() && !info.isDir()) {
        m_folderValidation->setMessage(
            ValidationLabel::State::Error,
            tr("%1 is a file, not a folder. Choose a folder.").arg(QDir::toNativeSeparators(path)));
    } else if (info.exists() && !info.isWritable()) {
        m_folderValidation->setMessage(
            ValidationLabel::State::Error,
            tr("You cannot write into %1. Choose a folder you own.").arg(QDir::toNativeSeparators(path)));
    } else if (info.exists()) {
        const QString exports = QDir::toNativeSeparators(exportFolder(path));
        if (QFileInfo::exists(exportFolder(path)))
            m_folderValidation->setMessage(
                ValidationLabel::State::Warning,
                tr("The folder exists and holds an earlier export: exporting replaces the files in %1.")
                    .arg(exports));
        else
            m_folderValidation->setMessage(
                ValidationLabel::State::Ok,
                tr("The folder exists; the export is written to %1, beside what is already there.")
                    .arg(exports));
    } else {
        // The nearest existing parent decides whether the folder can be created.
        QFileInfo parent(info.absolutePath());
        while (!parent.exists() && parent.absoluteFilePath() != parent.absolutePath())
            parent = QFileInfo(parent.absolutePath());
        if (parent.isDir() && parent.isWritable())
            m_folderValidation->setMessage(ValidationLabel::State::Ok, tr("The folder will be created."));
        else
            m_folderValidation->setMessage(ValidationLabel::State::Error,
                                           tr("The folder cannot be created inside %1. Choose another place.")
                                               .arg(QDir::toNativeSeparators(parent.absoluteFilePath())));
    }
}

void ExportPage::updateButton()
{
    m_export->setEnabled(m_available && problem().isEmpty());
}

} // namespace emloc::ui
