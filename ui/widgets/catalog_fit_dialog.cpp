#include "widgets/catalog_fit_dialog.h"

#include "format.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPalette>
#include <QSpinBox>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <cmath>

namespace emloc::ui {

namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

enum Column { NameColumn, ParametersColumn, InferenceColumn, LoraColumn, EmlocColumn, NoteColumn };

// Green where it fits, red where it does not: the table is read by colour first.
void setFit(QTreeWidgetItem *item, int column, bool fits, const QString &text)
{
    item->setText(column, text);
    item->setForeground(column, fits ? QColor(0x1b, 0x7f, 0x3b) : QColor(0xb0, 0x24, 0x18));
}

QString parametersText(qint64 parameters)
{
    const double billions = static_cast<double>(parameters) / 1e9;
    return QLocale().toString(billions, 'f', billions < 10 ? 1 : 0) + QStringLiteral(" B");
}
} // namespace

CatalogFitDialog::CatalogFitDialog(const Project &project, CatalogFitProvider provider, qint64 memoryBytes,
                                   bool cuda, QWidget *parent)
    : QDialog(parent), m_project(project), m_provider(std::move(provider))
{
    setWindowTitle(tr("What fits"));
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("Popular models against a memory size, planned from their shapes alone: "
                                "nothing is downloaded. Batch, LoRA rank and refinement are this project's."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto *inputs = new QHBoxLayout;
    auto *form = new QFormLayout;
    m_memory = new QDoubleSpinBox(this);
    m_memory->setObjectName(QStringLiteral("catalogMemory"));
    m_memory->setRange(0.5, 4096);
    m_memory->setDecimals(1);
    m_memory->setSuffix(tr(" GiB"));
    m_memory->setValue(memoryBytes > 0 ? std::round(memoryBytes / kGiB * 10) / 10 : 24);
    m_memory->setToolTip(tr("The device's memory, or any size: that of a card you consider."));
    form->addRow(tr("&Memory:"), m_memory);
    m_device = new QComboBox(this);
    m_device->addItem(tr("GPU (CUDA)"), true);
    m_device->addItem(tr("CPU"), false);
    m_device->setCurrentIndex(cuda ? 0 : 1);
    m_device->setToolTip(tr("A GPU adds the CUDA context; the CPU computes in 32-bit values by default."));
    form->addRow(tr("&Device:"), m_device);
    inputs->addLayout(form);
    auto *form2 = new QFormLayout;
    m_values = new QComboBox(this);
    m_values->addItem(tr("as the device (bf16 on GPU, fp32 on CPU)"), 0);
    m_values->addItem(tr("bf16 / fp16 (2 bytes)"), 2);
    m_values->addItem(tr("fp32 (4 bytes)"), 4);
    form2->addRow(tr("&Values:"), m_values);
    m_length = new QSpinBox(this);
    m_length->setRange(16, 131072);
    m_length->setSingleStep(256);
    m_length->setValue(project.training.maxLength > 0 ? project.training.maxLength : 512);
    m_length->setSuffix(tr(" tokens"));
    m_length->setToolTip(tr("Tokens per training example: activations and logits grow with it."));
    form2->addRow(tr("&Sequence length:"), m_length);
    inputs->addLayout(form2);
    inputs->addStretch(1);
    layout->addLayout(inputs);

    m_table = new QTreeWidget(this);
    m_table->setObjectName(QStringLiteral("catalogTable"));
    m_table->setHeaderLabels({tr("Model"), tr("Parameters"), tr("Inference"), tr("LoRA (whole model)"),
                              tr("EMLoC"), tr("Quality")});
    m_table->setRootIsDecorated(false);
    m_table->setUniformRowHeights(true);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    for (int column = NameColumn; column < NoteColumn; ++column)
        m_table->header()->setSectionResizeMode(column, QHeaderView::ResizeToContents);
    m_table->header()->setStretchLastSection(true);
    for (int column : {ParametersColumn, InferenceColumn, LoraColumn})
        m_table->headerItem()->setTextAlignment(column, Qt::AlignRight | Qt::AlignVCenter);
    layout->addWidget(m_table, 1);

    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("catalogSummary"));
    m_summary->setWordWrap(true);
    layout->addWidget(m_summary);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);

    connect(m_memory, &QDoubleSpinBox::valueChanged, this, &CatalogFitDialog::refresh);
    connect(m_length, &QSpinBox::valueChanged, this, &CatalogFitDialog::refresh);
    connect(m_device, &QComboBox::currentIndexChanged, this, &CatalogFitDialog::refresh);
    connect(m_values, &QComboBox::currentIndexChanged, this, &CatalogFitDialog::refresh);
    resize(fontMetrics().averageCharWidth() * 150, fontMetrics().height() * 46);
    refresh();
}

CatalogQuery CatalogFitDialog::query() const
{
    CatalogQuery query;
    query.memoryBytes = static_cast<qint64>(m_memory->value() * kGiB);
    query.cuda = m_device->currentData().toBool();
    query.valueBytes = m_values->currentData().toInt();
    query.sequenceLength = m_length->value();
    return query;
}

void CatalogFitDialog::refresh()
{
    m_table->clear();
    const CatalogQuery asked = query();
    const CatalogFits fits = m_provider ? m_provider(m_project, asked) : CatalogFits{tr("No planner."), {}};
    if (!fits.error.isEmpty()) {
        m_summary->setText(fits.error);
        return;
    }
    int inference = 0, lora = 0, emloc = 0;
    for (const CatalogFit &fit : fits.models) {
        auto *item = new QTreeWidgetItem(m_table);
        item->setText(NameColumn, fit.name);
        item->setToolTip(NameColumn, fit.repository);
        item->setText(ParametersColumn, parametersText(fit.parameters));
        item->setTextAlignment(ParametersColumn, Qt::AlignRight | Qt::AlignVCenter);
        setFit(item, InferenceColumn, fit.inferenceFits, formatBytes(fit.inferenceBytes));
        setFit(item, LoraColumn, fit.fullLoraFits, formatBytes(fit.fullLoraBytes));
        for (int column : {InferenceColumn, LoraColumn})
            item->setTextAlignment(column, Qt::AlignRight | Qt::AlignVCenter);
        if (fit.fullLoraFits)
            setFit(item, EmlocColumn, true, tr("not needed"));
        else if (fit.emlocFits)
            setFit(item, EmlocColumn, true,
                   tr("ratio %1, %2")
                       .arg(QLocale().toString(fit.emlocRatio, 'f', 2), formatBytes(fit.emlocPeakBytes)));
        else
            setFit(item, EmlocColumn, false,
                   tr("does not fit (%1 at the smallest ratio)").arg(formatBytes(fit.emlocPeakBytes)));
        if (!fit.fullLoraFits && fit.emlocFits) {
            item->setText(NoteColumn, fit.caveat);
            item->setToolTip(NoteColumn, fit.caveat);
        }
        inference += fit.inferenceFits;
        lora += fit.fullLoraFits;
        emloc += fit.fullLoraFits || fit.emlocFits;
    }
    m_summary->setText(tr("In %1: %2 of %3 models run inference, %4 fine-tune with LoRA on the whole model, "
                          "%5 with EMLoC. Green fits, red does not; the peak is the planner's, which a run "
                          "measures. A model not listed: emloc plan --config its config.json.")
                           .arg(formatBytes(asked.memoryBytes))
                           .arg(inference)
                           .arg(fits.models.size())
                           .arg(lora)
                           .arg(emloc));
}

} // namespace emloc::ui
