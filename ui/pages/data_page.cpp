#include "pages/data_page.h"

#include "widgets/length_histogram.h"

#include "format.h"
#include "project/project.h"
#include "widgets/path_field.h"
#include "widgets/validation_label.h"

#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPainter>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <algorithm>

namespace emloc::ui {

namespace {
const QString kFilter = QStringLiteral("%1 (*.jsonl *.json);;%2 (*)");
constexpr int kThumbnailGap = 4;

// A record's images side by side, as one picture for its table cell; an image that cannot be read is a
// box with a cross (its reason is in the cell's tooltip).
QPixmap thumbnailStrip(const std::vector<DatasetSummary::Image> &images, int height)
{
    std::vector<QImage> scaled;
    int width = 0;
    for (const DatasetSummary::Image &image : images) {
        scaled.push_back(image.thumbnail.isNull()
                             ? QImage()
                             : image.thumbnail.scaledToHeight(height, Qt::SmoothTransformation));
        width += (scaled.back().isNull() ? height : scaled.back().width()) + kThumbnailGap;
    }
    QPixmap strip(std::max(1, width - kThumbnailGap), height);
    strip.fill(Qt::transparent);
    QPainter painter(&strip);
    int x = 0;
    for (const QImage &image : scaled) {
        if (image.isNull()) {
            const QRect box(x, 0, height - 1, height - 1);
            painter.setPen(QPen(Qt::red, 2));
            painter.drawRect(box);
            painter.drawLine(box.topLeft(), box.bottomRight());
            painter.drawLine(box.topRight(), box.bottomLeft());
            x += height + kThumbnailGap;
            continue;
        }
        painter.drawImage(x, 0, image);
        x += image.width() + kThumbnailGap;
    }
    return strip;
}
} // namespace

DataPage::DataPage(QWidget *parent)
    : ProjectPage(
          tr("Data"),
          tr("Your training records. The first of them also calibrate the emulator, so it is compressed "
             "for exactly this task."),
          Scrolling::Vertical, parent)
{
    setObjectName(QStringLiteral("dataPage"));
    const QString filter = kFilter.arg(tr("Training records"), tr("All files"));

    auto *trainingBox = new QGroupBox(tr("Training data"), this);
    auto *trainingLayout = new QVBoxLayout(trainingBox);
    auto *trainingLabel = new QLabel(tr("&Training file:"), trainingBox);
    m_training =
        new PathField(PathField::Kind::ExistingFile, tr("Choose the training data"), filter, trainingBox);
    m_training->setObjectName(QStringLiteral("trainingPath"));
    m_training->setPlaceholderText(tr("A .jsonl file, one JSON record per line"));
    m_training->setToolTip(
        tr("Records with \"messages\", \"prompt\"/\"completion\", \"instruction\"/\"output\" or "
           "\"text\"."));
    trainingLabel->setBuddy(m_training->lineEdit());
    m_trainingValidation = new ValidationLabel(trainingBox);
    trainingLayout->addWidget(trainingLabel);
    trainingLayout->addWidget(m_training);
    trainingLayout->addWidget(m_trainingValidation);
    contentLayout()->addWidget(trainingBox);

    // core's two settings, independent: a share of the training file for the validation loss while
    // training (data.validation_fraction), and a test file for the evaluation after it (data.test).
    auto *validationBox = new QGroupBox(tr("Held-out data"), this);
    auto *validationLayout = new QGridLayout(validationBox);
    validationLayout->setColumnStretch(1, 1);
    m_holdOutPercent = new QDoubleSpinBox(validationBox);
    m_holdOutPercent->setObjectName(QStringLiteral("holdOutPercent"));
    m_holdOutPercent->setRange(core::run_defaults::kValidationFraction.low * 100,
                               core::run_defaults::kValidationFraction.high * 100);
    m_holdOutPercent->setDecimals(1);
    m_holdOutPercent->setSingleStep(1);
    m_holdOutPercent->setSuffix(tr(" %"));
    m_holdOutPercent->setSpecialValueText(tr("none"));
    m_holdOutPercent->setToolTip(
        tr("These training records are never trained on; their loss, plotted while training, shows "
           "whether the model generalises."));
    auto *holdOutLabel = new QLabel(tr("&Hold out for the validation loss:"), validationBox);
    holdOutLabel->setBuddy(m_holdOutPercent);
    holdOutLabel->setToolTip(m_holdOutPercent->toolTip());
    m_validationPath =
        new PathField(PathField::Kind::ExistingFile, tr("Choose the test data"), filter, validationBox);
    m_validationPath->setObjectName(QStringLiteral("validationPath"));
    m_validationPath->setToolTip(
        tr("Optional: records in the training file's format, never trained on. After training, the "
           "Results page compares the models' answers and loss on them."));
    auto *testLabel = new QLabel(tr("&Test file for the evaluation:"), validationBox);
    testLabel->setBuddy(m_validationPath);
    testLabel->setToolTip(m_validationPath->toolTip());
    m_validationValidation = new ValidationLabel(validationBox);
    validationLayout->addWidget(holdOutLabel, 0, 0);
    validationLayout->addWidget(m_holdOutPercent, 0, 1, Qt::AlignLeft);
    validationLayout->addWidget(testLabel, 1, 0);
    validationLayout->addWidget(m_validationPath, 1, 1);
    validationLayout->addWidget(m_validationValidation, 2, 1);
    contentLayout()->addWidget(validationBox);

    auto *previewBox = new QGroupBox(tr("First records"), this);
    auto *previewLayout = new QVBoxLayout(previewBox);
    m_preview = new QTableWidget(0, 2, previewBox);
    m_preview->setObjectName(QStringLiteral("dataPreview"));
    m_preview->setHorizontalHeaderLabels({tr("Input"), tr("Target")});
    m_preview->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_preview->verticalHeader()->setVisible(false);
    m_preview->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_preview->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_preview->setAlternatingRowColors(true);
    m_preview->setShowGrid(false);
    m_preview->setWordWrap(false);
    m_preview->setTextElideMode(Qt::ElideRight);
    m_preview->setMinimumHeight(fontMetrics().height() * 12);
    m_previewHint = new QLabel(tr("Choose a training file to see its first records."), previewBox);
    m_previewHint->setObjectName(QStringLiteral("hint"));
    previewLayout->addWidget(m_preview);
    previewLayout->addWidget(m_previewHint);
    contentLayout()->addWidget(previewBox, 1);

    auto *tokensBox = new QGroupBox(tr("What training sees (the model's template and tokenizer)"), this);
    auto *tokensLayout = new QGridLayout(tokensBox);
    m_statsText = new QLabel(tokensBox);
    m_statsText->setObjectName(QStringLiteral("datasetStats"));
    m_statsText->setWordWrap(true);
    m_histogram = new LengthHistogram(tokensBox);
    m_histogram->setMinimumHeight(fontMetrics().height() * 12);
    m_example = new QTextBrowser(tokensBox);
    m_example->setObjectName(QStringLiteral("renderedExample"));
    m_example->setToolTip(tr("One record as the model sees it. Bold, coloured text is trained; grey text is "
                             "context only (masked from the loss)."));
    m_example->setMinimumHeight(fontMetrics().height() * 8);
    tokensLayout->addWidget(m_statsText, 0, 0, 1, 2);
    tokensLayout->addWidget(m_histogram, 1, 0);
    tokensLayout->addWidget(m_example, 1, 1);
    tokensLayout->setColumnStretch(0, 1);
    tokensLayout->setColumnStretch(1, 1);
    // Above the raw records: what the model is trained on matters more than the file's first lines.
    contentLayout()->insertWidget(contentLayout()->indexOf(previewBox), tokensBox, 1);
    setStats({});

    connect(m_training, &PathField::pathChanged, this, [this](const QString &path) {
        inspectTraining(path);
        Q_EMIT changed();
    });
    connect(m_validationPath, &PathField::pathChanged, this, [this](const QString &path) {
        inspectValidation(path);
        Q_EMIT changed();
    });
    connect(m_holdOutPercent, &QDoubleSpinBox::valueChanged, this, &DataPage::changed);
    readFrom(Project());
}

void DataPage::setStats(const DatasetStats &stats)
{
    m_stats = stats;
    m_histogram->setStats(stats);
    if (!stats.error.isEmpty()) {
        m_statsText->setText(stats.error);
        m_example->clear();
        return;
    }
    QString text = tr("%1 records: %2 used, %3 skipped. %4 truncated at %5 tokens. %6 % of the tokens are "
                      "masked (context only). Template: %7.")
                       .arg(stats.records)
                       .arg(stats.used)
                       .arg(stats.skipped)
                       .arg(stats.truncated)
                       .arg(stats.maxLengthOption)
                       .arg(QLocale().toString(100.0 * stats.maskedFraction, 'f', 0), stats.templateName);
    if (!stats.skipReasons.isEmpty())
        text += QLatin1Char(' ') + tr("Skipped: %1.").arg(stats.skipReasons.join(QStringLiteral("; ")));
    m_statsText->setText(text);
    QString html = QStringLiteral("<pre style=\"white-space: pre-wrap\">");
    for (const DatasetStats::Segment &segment : stats.example) {
        const QString escaped = segment.text.toHtmlEscaped();
        html += segment.trained ? QStringLiteral("<b style=\"color:#0369a1\">%1</b>").arg(escaped)
                                : QStringLiteral("<span style=\"color:#64748b\">%1</span>").arg(escaped);
    }
    m_example->setHtml(html + QStringLiteral("</pre>"));
}

void DataPage::readFrom(const Project &project)
{
    const QSignalBlocker blockPercent(m_holdOutPercent);
    m_training->setPath(project.data.trainingPath);
    m_validationPath->setPath(project.data.validationPath);
    m_holdOutPercent->setValue(project.data.validationFraction * 100.0);
    inspectTraining(project.data.trainingPath);
    inspectValidation(project.data.validationPath);
}

void DataPage::writeTo(Project &project) const
{
    project.data.trainingPath = m_training->path();
    project.data.validationPath = m_validationPath->path();
    project.data.validationFraction = m_holdOutPercent->value() / 100.0;
}

QString DataPage::problem() const
{
    if (m_training->path().isEmpty())
        return tr("Choose the training data on the Data page.");
    if (!m_summary.ok())
        return m_summary.error;
    if (!m_validationPath->path().isEmpty() && !m_validationSummary.ok())
        return m_validationSummary.error;
    return {};
}

void DataPage::setInspector(DatasetInspector inspector)
{
    m_inspector = std::move(inspector);
    inspectTraining(m_training->path());
    inspectValidation(m_validationPath->path());
}

DatasetSummary DataPage::inspect(const QString &path) const
{
    if (path.isEmpty() || !m_inspector)
        return {};
    DatasetSummary summary = m_inspector(path);
    if (summary.ok() && summary.records < 16)
        summary.warnings << tr("Only %n record(s): fine-tuning needs more examples to learn anything.",
                               nullptr, static_cast<int>(summary.records));
    return summary;
}

void DataPage::inspectTraining(const QString &path)
{
    m_summary = inspect(path);
    if (path.isEmpty() || !m_inspector) {
        m_trainingValidation->clear();
    } else if (!m_summary.error.isEmpty()) {
        m_trainingValidation->setMessage(ValidationLabel::State::Error, m_summary.error);
    } else {
        const QString count = (m_summary.recordsEstimated ? tr("about %1") : QStringLiteral("%1"))
                                  .arg(QLocale().toString(m_summary.records));
        QString text = tr("%1 records, %2, %3.")
                           .arg(count, datasetFormatName(m_summary.format), formatBytes(m_summary.sizeBytes));
        if (!m_summary.warnings.isEmpty())
            text += QLatin1Char(' ') + m_summary.warnings.join(QLatin1Char(' '));
        m_trainingValidation->setMessage(m_summary.warnings.isEmpty() ? ValidationLabel::State::Ok
                                                                      : ValidationLabel::State::Warning,
                                         text);
    }

    // Records with images (a vision-language dataset) get a first column with their thumbnails.
    const bool images =
        std::any_of(m_summary.preview.begin(), m_summary.preview.end(),
                    [](const DatasetSummary::Record &record) { return !record.images.empty(); });
    m_preview->clear();
    m_preview->setColumnCount(images ? 3 : 2);
    m_preview->setHorizontalHeaderLabels(images ? QStringList{tr("Images"), tr("Input"), tr("Target")}
                                                : QStringList{tr("Input"), tr("Target")});
    if (images)
        m_preview->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    const int thumbnailHeight = fontMetrics().height() * 3;
    m_preview->setIconSize(QSize(thumbnailHeight * 8, thumbnailHeight));
    m_preview->setRowCount(static_cast<int>(m_summary.preview.size()));
    for (int row = 0; row < static_cast<int>(m_summary.preview.size()); ++row) {
        const DatasetSummary::Record &record = m_summary.preview[static_cast<std::size_t>(row)];
        const int first = images ? 1 : 0;
        auto *input = new QTableWidgetItem(record.input);
        input->setToolTip(record.input.left(1000));
        auto *target = new QTableWidgetItem(record.target);
        target->setToolTip(record.target.left(1000));
        m_preview->setItem(row, first, input);
        m_preview->setItem(row, first + 1, target);
        if (!images)
            continue;
        auto *pictures = new QTableWidgetItem;
        QStringList notes;
        for (const DatasetSummary::Image &image : record.images)
            notes << image.note;
        pictures->setToolTip(notes.join(QLatin1Char('\n')));
        if (!record.images.empty()) {
            const QPixmap strip = thumbnailStrip(record.images, thumbnailHeight);
            pictures->setData(Qt::DecorationRole, strip);
            pictures->setSizeHint(strip.size() + QSize(8, 8));
        }
        m_preview->setItem(row, 0, pictures);
        m_preview->setRowHeight(row, record.images.empty() ? m_preview->verticalHeader()->defaultSectionSize()
                                                           : thumbnailHeight + 8);
    }
    m_previewHint->setVisible(m_summary.preview.empty());
}

void DataPage::inspectValidation(const QString &path)
{
    m_validationSummary = inspect(path);
    if (path.isEmpty() || !m_inspector)
        m_validationValidation->clear();
    else if (!m_validationSummary.error.isEmpty())
        m_validationValidation->setMessage(ValidationLabel::State::Error, m_validationSummary.error);
    else if (m_summary.ok() && m_validationSummary.format != m_summary.format)
        m_validationValidation->setMessage(
            ValidationLabel::State::Warning,
            tr("The test records are %1, the training records %2.")
                .arg(datasetFormatName(m_validationSummary.format), datasetFormatName(m_summary.format)));
    else
        m_validationValidation->setMessage(
            ValidationLabel::State::Ok,
            tr("%1 test records.").arg(QLocale().toString(m_validationSummary.records)));
}

} // namespace emloc::ui
