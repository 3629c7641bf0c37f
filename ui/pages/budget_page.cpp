#include "pages/budget_page.h"

#include "widgets/tradeoff_plot.h"

#include "device_ids.h"
#include "format.h"
#include "jobs/background_task.h"
#include "project/project.h"
#include "widgets/scientific_spin_box.h"
#include "widgets/validation_label.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

namespace emloc::ui {

namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

struct TargetModule
{
    const char *id;
    const char *label;
};
constexpr TargetModule kTargetModules[] = {
    {"q_proj", "q"},       {"k_proj", "k"},   {"v_proj", "v"},       {"o_proj", "o"},
    {"gate_proj", "gate"}, {"up_proj", "up"}, {"down_proj", "down"},
};

QFormLayout *createForm(QWidget *parent)
{
    auto *form = new QFormLayout(parent);
    form->setLabelAlignment(Qt::AlignRight);
    form->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
    form->setHorizontalSpacing(14);
    form->setVerticalSpacing(8);
    return form;
}

// Every field of the forms has the same width: aligned columns read as one form.
void setUniformWidth(QAbstractSpinBox *box)
{
    box->setFixedWidth(box->fontMetrics().horizontalAdvance(QStringLiteral("0000000 tokens")) + 40);
}

// A core count limit as a spin box's (an int): "any count" is more than anyone types.
int spinLimit(int64_t value)
{
    return static_cast<int>(std::min<int64_t>(value, std::numeric_limits<int>::max()));
}

QSpinBox *spinBox(int minimum, int maximum, const QString &toolTip, QWidget *parent)
{
    auto *box = new QSpinBox(parent);
    box->setRange(minimum, maximum);
    box->setToolTip(toolTip);
    setUniformWidth(box);
    box->setGroupSeparatorShown(true);
    return box;
}

QDoubleSpinBox *doubleSpinBox(double minimum, double maximum, double step, int decimals,
                              const QString &toolTip, QWidget *parent)
{
    auto *box = new QDoubleSpinBox(parent);
    box->setRange(minimum, maximum);
    box->setSingleStep(step);
    box->setDecimals(decimals);
    box->setToolTip(toolTip);
    setUniformWidth(box);
    return box;
}

// A spin box over the range core accepts for the setting.
template <typename T>
QSpinBox *spinBox(const core::run_defaults::Setting<T> &setting, const QString &toolTip, QWidget *parent)
{
    return spinBox(spinLimit(setting.low), spinLimit(setting.high), toolTip, parent);
}

QLabel *buddyLabel(const QString &text, QWidget *buddy)
{
    auto *label = new QLabel(text, buddy->parentWidget());
    label->setBuddy(buddy);
    label->setToolTip(buddy->toolTip());
    return label;
}
} // namespace

BudgetPage::BudgetPage(QWidget *parent)
    : ProjectPage(
          tr("Budget"),
          tr("Where to run, how much memory fine-tuning may use, and how to train. The emulator is sized "
             "so that training fits."),
          Scrolling::Vertical, parent)
{
    setObjectName(QStringLiteral("budgetPage"));
    auto *columns = new QHBoxLayout;
    columns->setSpacing(14);
    auto *left = new QVBoxLayout;
    left->setSpacing(12);
    left->addWidget(createDeviceGroup());
    left->addWidget(createEmulatorGroup());
    left->addWidget(createSequenceGroup());
    left->addStretch(1);
    auto *right = new QVBoxLayout;
    right->setSpacing(12);
    right->addWidget(createLoraGroup());
    right->addWidget(createOptimizerGroup());
    right->addStretch(1);
    columns->addLayout(left, 1);
    columns->addLayout(right, 1);
    contentLayout()->addWidget(createTradeOffGroup());
    contentLayout()->addLayout(columns);
    contentLayout()->addWidget(createAdvancedGroup());

    readFrom(Project());
    refreshDevices();
}

QWidget *BudgetPage::createDeviceGroup()
{
    auto *group = new QGroupBox(tr("Device"), this);
    auto *layout = new QVBoxLayout(group);
    m_deviceTree = new QTreeWidget(group);
    m_deviceTree->setObjectName(QStringLiteral("devices"));
    m_deviceTree->setHeaderLabels({tr("Device"), tr("Total memory"), tr("Free memory")});
    m_deviceTree->setRootIsDecorated(false);
    m_deviceTree->setUniformRowHeights(true);
    m_deviceTree->setAlternatingRowColors(true);
    m_deviceTree->header()->setStretchLastSection(false);
    m_deviceTree->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_deviceTree->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_deviceTree->header()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_deviceTree->setToolTip(tr("The device that runs every stage; a GPU is much faster than the CPU. "
                                "Ctrl-click to pick several GPUs: the job then runs one process per GPU."));
    // Several GPUs at once: one data-parallel process each.
    m_deviceTree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_deviceTree->setMaximumHeight(m_deviceTree->fontMetrics().height() * 8); // a header and four devices
    m_deviceTree->setTextElideMode(Qt::ElideMiddle); // a long GPU name keeps its "(cuda:N)"
    m_deviceTree->headerItem()->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
    m_deviceTree->headerItem()->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
    auto *deviceLabel = new QLabel(tr("Run &on:"), group);
    deviceLabel->setBuddy(m_deviceTree);
    m_refresh = new QPushButton(QIcon(QStringLiteral(":/icons/view-refresh.svg")), tr("&Refresh"), group);
    m_refresh->setToolTip(tr("Measure the devices' free memory again."));
    m_catalog = new QPushButton(tr("What &fits…"), group);
    m_catalog->setObjectName(QStringLiteral("catalogButton"));
    m_catalog->setToolTip(tr("Which popular models this device (or any memory size) can run, fine-tune "
                             "with LoRA, or fine-tune with EMLoC, before downloading any."));
    auto *header = new QHBoxLayout;
    header->addWidget(deviceLabel);
    header->addStretch(1);
    header->addWidget(m_catalog);
    header->addWidget(m_refresh);
    layout->addLayout(header);
    layout->addWidget(m_deviceTree);
    m_severalGpus = new QLabel(group);
    m_severalGpus->setObjectName(QStringLiteral("hint"));
    m_severalGpus->setAccessibleName(QStringLiteral("severalGpus"));
    m_severalGpus->setWordWrap(true);
    m_severalGpus->setVisible(false);
    layout->addWidget(m_severalGpus);

    connect(m_refresh, &QPushButton::clicked, this, &BudgetPage::refreshDevices);
    connect(m_catalog, &QPushButton::clicked, this, &BudgetPage::catalogRequested);
    connect(m_deviceTree, &QTreeWidget::itemSelectionChanged, this, [this] {
        if (m_listing)
            return;
        const QString id = selectionDevice();
        if (id.isEmpty() || id == m_device)
            return;
        m_device = id;
        selectDevice(m_device); // the CPU row picked beside GPUs shows as not used
        updateSeveralGpus();
        updateFit();
        Q_EMIT changed();
    });
    return group;
}

QWidget *BudgetPage::createTradeOffGroup()
{
    auto *group = new QGroupBox(tr("Memory against emulator size (planner)"), this);
    auto *layout = new QVBoxLayout(group);
    m_tradeOff = new TradeOffPlot(group);
    m_tradeOff->setMinimumHeight(fontMetrics().height() * 19);
    m_tradeOff->setToolTip(tr("Predicted peak memory of each EMLoC stage for every compression ratio, from "
                              "the model's shape and the settings below. The run measures the real peaks."));
    m_tradeOffSummary = new QLabel(group);
    m_tradeOffSummary->setObjectName(QStringLiteral("tradeOffSummary"));
    m_tradeOffSummary->setWordWrap(true);
    layout->addWidget(m_tradeOff);
    layout->addWidget(m_tradeOffSummary);
    return group;
}

void BudgetPage::setPlanPreview(const PlanPreview &preview)
{
    m_preview = preview;
    // A text model has no tower to compress: the setting does not apply to it, so it is dropped.
    if (preview.error.isEmpty() && !preview.visionLanguage && m_visionTower->isChecked())
        m_visionTower->setChecked(false);
    updateVisionTower();
    m_tradeOff->setPreview(preview);
    updateTradeOffSummary();
    updateFit();
}

void BudgetPage::updateVisionTower()
{
    m_visionTower->setEnabled(m_preview.visionLanguage);
    m_visionRatio->setEnabled(m_preview.visionLanguage && m_visionTower->isChecked());
}

void BudgetPage::setCalibration(const QJsonObject &emulatorJson)
{
    m_energyRatios.clear();
    m_energyRetained.clear();
    const QJsonObject curve = emulatorJson.value(QStringLiteral("energy_curve")).toObject();
    const QJsonArray ratios = curve.value(QStringLiteral("ratios")).toArray();
    const QJsonArray retained = curve.value(QStringLiteral("retained_energy")).toArray();
    if (ratios.size() == retained.size()) {
        for (qsizetype i = 0; i < ratios.size(); ++i) {
            m_energyRatios.push_back(ratios.at(i).toDouble());
            m_energyRetained.push_back(retained.at(i).toDouble());
        }
    }
    m_tradeOff->setRetainedEnergy(m_energyRatios, m_energyRetained);
    updateTradeOffSummary();
}

QString BudgetPage::stepTimeText(const PlanPreview &preview)
{
    // Steps are often under a second: two significant digits, not whole seconds.
    const auto seconds = [](double value) {
        return value >= 60 ? formatDuration(value)
                           : tr("%1 s").arg(QLocale().toString(value, 'g', value < 1 ? 2 : 3));
    };
    const QString step = seconds(preview.stepSeconds);
    if (preview.stepFromLastRun)
        return preview.processes > 1
                   ? tr("A training step should take about %1 on the %2 GPUs together (%3 on one), plus "
                        "their gradient exchange: scaled from this folder's last run.")
                         .arg(step)
                         .arg(preview.processes)
                         .arg(seconds(preview.singleProcessStepSeconds))
                   : tr("A training step should take about %1, scaled from this folder's last run.")
                         .arg(step);
    const QString rate = QLocale().toString(preview.flopsPerSecond / 1e9, 'f', 1);
    return preview.processes > 1
               ? tr("A training step takes at least %1 on the %2 GPUs together (%3 on one) at the device's "
                    "matrix-product rate (%4 GFLOP/s); the first run measures the real time.")
                     .arg(step)
                     .arg(preview.processes)
                     .arg(seconds(preview.singleProcessStepSeconds), rate)
               : tr("A training step takes at least %1 at the device's matrix-product rate (%2 GFLOP/s); the "
                    "first run measures the real time.")
                     .arg(step, rate);
}

void BudgetPage::updateTradeOffSummary()
{
    const PlanPreview &preview = m_preview;
    if (!preview.error.isEmpty()) {
        m_tradeOffSummary->setText(preview.error);
    } else if (!preview.fits) {
        m_tradeOffSummary->setText(tr("Nothing fits the budget: %1").arg(preview.advice));
    } else if (preview.ratio > 0) {
        const auto at = std::min_element(
            preview.curve.begin(), preview.curve.end(), [&](const PlanPoint &a, const PlanPoint &b) {
                return std::abs(a.ratio - preview.ratio) < std::abs(b.ratio - preview.ratio);
            });
        if (at != preview.curve.end()) {
            const qint64 peak = std::max({at->constructionBytes, at->fineTuningBytes, at->correctionBytes});
            m_tradeOffSummary->setText(
                tr("At ratio %1 the largest stage needs about %2; inference of the original model needs %3.")
                    .arg(QLocale().toString(preview.ratio, 'f', 2), formatBytes(peak),
                         formatBytes(at->inferenceBytes)));
        }
        if (preview.processes > 1 && preview.processFineTuningBytes > 0)
            m_tradeOffSummary->setText(
                m_tradeOffSummary->text() + QLatin1Char(' ') +
                tr("On each of the %1 GPUs: about %2 to build the emulator (its share of the calibration "
                   "samples) and %3 to fine-tune (its share of each step).")
                    .arg(preview.processes)
                    .arg(formatBytes(preview.processConstructionBytes),
                         formatBytes(preview.processFineTuningBytes)));
        if (preview.stepSeconds > 0)
            m_tradeOffSummary->setText(m_tradeOffSummary->text() + QLatin1Char(' ') + stepTimeText(preview));
        if (preview.refinementBytes > 0) {
            const bool over = preview.budgetBytes > 0 && preview.refinementBytes > preview.budgetBytes;
            m_tradeOffSummary->setText(
                m_tradeOffSummary->text() + QLatin1Char(' ') +
                (over ? tr("Refining the last layers on the original model would need about %1, over the "
                           "budget: the run skips it and ships the corrected adapter.")
                      : tr("Refining the last layers on the original model then needs about %1."))
                    .arg(formatBytes(preview.refinementBytes)));
        }
        if (!m_energyRatios.isEmpty()) {
            // The measured curve's point nearest the ratio in use.
            qsizetype nearest = 0;
            for (qsizetype i = 1; i < m_energyRatios.size(); ++i)
                if (std::abs(m_energyRatios[i] - preview.ratio) <
                    std::abs(m_energyRatios[nearest] - preview.ratio))
                    nearest = i;
            m_tradeOffSummary->setText(
                m_tradeOffSummary->text() + QLatin1Char(' ') +
                tr("The last run's calibration: at ratio %1 the emulator keeps %2 % of the activation "
                   "energy.")
                    .arg(QLocale().toString(m_energyRatios[nearest], 'f', 2),
                         QLocale().toString(100.0 * m_energyRetained[nearest], 'f', 3)));
        }
    }
}

QWidget *BudgetPage::createEmulatorGroup()
{
    auto *group = new QGroupBox(tr("Emulator size"), this);
    auto *layout = new QGridLayout(group);
    layout->setHorizontalSpacing(14);
    layout->setVerticalSpacing(8);
    layout->setColumnStretch(2, 1);

    m_budgetMode = new QRadioButton(tr("Fit a &memory budget:"), group);
    m_budgetMode->setObjectName(QStringLiteral("budgetMode"));
    m_budgetMode->setToolTip(
        tr("The planner picks the largest emulator whose fine-tuning peak fits this budget."));
    // From 0: a budget too small for any emulator is kept as typed and refused with a message (updateFit),
    // never silently replaced by the previous value as a spin box does below its minimum.
    m_budget = doubleSpinBox(0.0, 4096, 0.5, 2, m_budgetMode->toolTip(), group);
    m_budget->setCorrectionMode(QAbstractSpinBox::CorrectToNearestValue);
    m_budget->setObjectName(QStringLiteral("budgetGiB"));
    m_budget->setSuffix(tr(" GiB"));
    m_ratioMode = new QRadioButton(tr("Keep a fixed &ratio of each layer:"), group);
    m_ratioMode->setObjectName(QStringLiteral("ratioMode"));
    m_ratioMode->setToolTip(
        tr("The share of each compressed layer's parameters the emulator keeps (the paper uses "
           "0.4)."));
    m_ratio = doubleSpinBox(core::run_defaults::kRatio.low, core::run_defaults::kRatio.high, 0.05, 3,
                            m_ratioMode->toolTip(), group);
    m_ratio->setObjectName(QStringLiteral("ratio"));
    auto *modes = new QButtonGroup(this);
    modes->addButton(m_budgetMode);
    modes->addButton(m_ratioMode);

    m_calibration = spinBox(core::run_defaults::kCalibrationSamples,
                            tr("Training records run through the original model to measure which "
                               "directions of each layer matter."),
                            group);
    m_calibration->setObjectName(QStringLiteral("calibrationSamples"));
    auto *calibrationLabel = buddyLabel(tr("&Calibration samples:"), m_calibration);
    m_visionTower = new QCheckBox(tr("Compress the &vision tower too, at:"), group);
    m_visionTower->setObjectName(QStringLiteral("compressVisionTower"));
    m_visionTower->setToolTip(
        tr("For a vision-language model: the emulator also compresses the vision tower's linear layers, "
           "calibrated on your images, so fine-tuning holds a smaller tower. The projector stays dense. "
           "The paper's configuration uses 0.4."));
    m_visionRatio = doubleSpinBox(core::run_defaults::kRatio.low, core::run_defaults::kVisionRatio.high, 0.05,
                                  3, m_visionTower->toolTip(), group);
    m_visionRatio->setObjectName(QStringLiteral("visionRatio"));
    m_visionRatio->setValue(core::run_defaults::kRatio.value);
    m_fit = new ValidationLabel(group);

    layout->addWidget(m_budgetMode, 0, 0);
    layout->addWidget(m_budget, 0, 1);
    layout->addWidget(m_ratioMode, 1, 0);
    layout->addWidget(m_ratio, 1, 1);
    layout->addWidget(calibrationLabel, 2, 0, Qt::AlignRight);
    layout->addWidget(m_calibration, 2, 1);
    layout->addWidget(m_visionTower, 3, 0);
    layout->addWidget(m_visionRatio, 3, 1);
    layout->addWidget(m_fit, 4, 0, 1, 3);

    auto changedAndFit = [this] {
        m_budget->setEnabled(m_budgetMode->isChecked());
        m_ratio->setEnabled(m_ratioMode->isChecked());
        updateFit();
        Q_EMIT changed();
    };
    connect(m_budgetMode, &QRadioButton::toggled, this, changedAndFit);
    connect(m_budget, &QDoubleSpinBox::valueChanged, this, changedAndFit);
    connect(m_ratio, &QDoubleSpinBox::valueChanged, this, changedAndFit);
    connect(m_calibration, &QSpinBox::valueChanged, this, &BudgetPage::changed);
    connect(m_visionTower, &QCheckBox::toggled, this, [this] {
        updateVisionTower();
        Q_EMIT changed();
    });
    connect(m_visionRatio, &QDoubleSpinBox::valueChanged, this, &BudgetPage::changed);
    updateVisionTower();
    return group;
}

QWidget *BudgetPage::createLoraGroup()
{
    auto *group = new QGroupBox(tr("LoRA"), this);
    auto *form = createForm(group);
    m_rank = spinBox(core::run_defaults::kLoraRank,
                     tr("The rank r of each LoRA update; higher learns more and uses more memory."), group);
    m_rank->setObjectName(QStringLiteral("loraRank"));
    m_alpha = doubleSpinBox(0.1, core::run_defaults::kLoraAlpha.high, 1, 1,
                            tr("The LoRA scale is alpha / rank; 16 with rank 8 is the usual choice."), group);
    m_alpha->setObjectName(QStringLiteral("loraAlpha"));
    m_dropout =
        doubleSpinBox(core::run_defaults::kLoraDropout.low, core::run_defaults::kLoraDropout.high, 0.01, 2,
                      tr("The share of LoRA inputs dropped at random during training, "
                         "against over-fitting."),
                      group);
    m_dropout->setObjectName(QStringLiteral("loraDropout"));
    form->addRow(buddyLabel(tr("R&ank:"), m_rank), m_rank);
    form->addRow(buddyLabel(tr("A&lpha:"), m_alpha), m_alpha);
    form->addRow(buddyLabel(tr("&Dropout:"), m_dropout), m_dropout);

    auto *targets = new QWidget(group);
    auto *grid = new QGridLayout(targets);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setHorizontalSpacing(12);
    int index = 0;
    for (const TargetModule &module : kTargetModules) {
        auto *box = new QCheckBox(QString::fromLatin1(module.label), targets);
        box->setProperty("module", QString::fromLatin1(module.id));
        box->setToolTip(
            tr("Adapt the %1 projection of every decoder block.").arg(QString::fromLatin1(module.id)));
        grid->addWidget(box, index / 4, index % 4);
        m_targets << box;
        connect(box, &QCheckBox::toggled, this, &BudgetPage::changed);
        ++index;
    }
    auto *targetsLabel = new QLabel(tr("Targets:"), group);
    targetsLabel->setToolTip(tr("The linear layers that receive a LoRA update."));
    form->addRow(targetsLabel, targets);

    connect(m_rank, &QSpinBox::valueChanged, this, &BudgetPage::changed);
    connect(m_alpha, &QDoubleSpinBox::valueChanged, this, &BudgetPage::changed);
    connect(m_dropout, &QDoubleSpinBox::valueChanged, this, &BudgetPage::changed);
    return group;
}

QWidget *BudgetPage::createOptimizerGroup()
{
    auto *group = new QGroupBox(tr("Optimizer"), this);
    auto *form = createForm(group);
    m_learningRate = new ScientificSpinBox(group);
    m_learningRate->setObjectName(QStringLiteral("learningRate"));
    m_learningRate->setRange(core::run_defaults::kLearningRate.low, core::run_defaults::kLearningRate.high);
    m_learningRate->setToolTip(tr("The peak AdamW learning rate; 4e-5 to 2e-4 works for most models."));
    setUniformWidth(m_learningRate);
    m_batch =
        spinBox(core::run_defaults::kBatch, tr("Sequences per forward pass; memory grows with it."), group);
    m_batch->setObjectName(QStringLiteral("batchSize"));
    m_accumulation = spinBox(core::run_defaults::kGradAccum,
                             tr("Forward passes summed into one optimizer step; a larger effective batch "
                                "without more memory."),
                             group);
    m_accumulation->setObjectName(QStringLiteral("gradientAccumulation"));
    m_effectiveBatch = new QLabel(group);
    m_effectiveBatch->setObjectName(QStringLiteral("hint"));
    m_steps = spinBox(core::run_defaults::kSteps,
                      tr("The number of optimizer steps to train; at its lowest, the number of epochs "
                         "below decides."),
                      group);
    m_steps->setObjectName(QStringLiteral("steps"));
    m_steps->setSpecialValueText(tr("from epochs"));
    m_epochs = doubleSpinBox(core::run_defaults::kEpochs.low, core::run_defaults::kEpochs.high, 0.5, 2,
                             tr("Passes over the training data, when the steps are not given."), group);
    m_epochs->setObjectName(QStringLiteral("epochs"));
    m_warmup = doubleSpinBox(0, core::run_defaults::kWarmupRatio.high * 100, 0.5, 1,
                             tr("The share of steps over which the learning rate rises from zero "
                                "before its cosine decay."),
                             group);
    m_warmup->setObjectName(QStringLiteral("warmup"));
    m_warmup->setSuffix(tr(" %"));
    m_weightDecay = doubleSpinBox(core::run_defaults::kWeightDecay.low, core::run_defaults::kWeightDecay.high,
                                  0.005, 3, tr("AdamW's decoupled weight decay on the LoRA weights."), group);
    m_weightDecay->setObjectName(QStringLiteral("weightDecay"));

    auto *batchRow = new QHBoxLayout;
    batchRow->setSpacing(10);
    batchRow->addWidget(m_accumulation);
    batchRow->addWidget(m_effectiveBatch);
    form->addRow(buddyLabel(tr("Learning &rate:"), m_learningRate), m_learningRate);
    form->addRow(buddyLabel(tr("&Batch size:"), m_batch), m_batch);
    form->addRow(buddyLabel(tr("Gradient acc&umulation:"), m_accumulation), batchRow);
    form->addRow(buddyLabel(tr("&Steps:"), m_steps), m_steps);
    form->addRow(buddyLabel(tr("E&pochs:"), m_epochs), m_epochs);
    form->addRow(buddyLabel(tr("&Warmup:"), m_warmup), m_warmup);
    form->addRow(buddyLabel(tr("Weight dec&ay:"), m_weightDecay), m_weightDecay);

    connect(m_learningRate, &QDoubleSpinBox::valueChanged, this, &BudgetPage::changed);
    connect(m_batch, &QSpinBox::valueChanged, this, [this] {
        updateEffectiveBatch();
        Q_EMIT changed();
    });
    connect(m_accumulation, &QSpinBox::valueChanged, this, [this] {
        updateEffectiveBatch();
        Q_EMIT changed();
    });
    connect(m_steps, &QSpinBox::valueChanged, this, [this](int steps) {
        m_epochs->setEnabled(steps == 0);
        Q_EMIT changed();
    });
    connect(m_epochs, &QDoubleSpinBox::valueChanged, this, &BudgetPage::changed);
    connect(m_warmup, &QDoubleSpinBox::valueChanged, this, &BudgetPage::changed);
    connect(m_weightDecay, &QDoubleSpinBox::valueChanged, this, &BudgetPage::changed);
    return group;
}

QWidget *BudgetPage::createSequenceGroup()
{
    auto *group = new QGroupBox(tr("Sequences and reproducibility"), this);
    auto *form = createForm(group);
    m_maxLength =
        spinBox(core::run_defaults::kMaxLength,
                tr("Longer records are truncated to this many tokens; memory grows with it."), group);
    m_maxLength->setObjectName(QStringLiteral("maxLength"));
    m_maxLength->setSingleStep(64);
    m_maxLength->setSuffix(tr(" tokens"));
    m_evaluationInterval =
        spinBox(core::run_defaults::kEvalEvery,
                tr("How many optimizer steps pass between two validation passes (when the Data page "
                   "holds some training records out)."),
                group);
    m_evaluationInterval->setObjectName(QStringLiteral("evaluationInterval"));
    m_evaluationInterval->setSpecialValueText(tr("at the end"));
    m_evaluationInterval->setSuffix(tr(" steps"));
    m_checkpointing = new QCheckBox(tr("Recompute activations in the backward pass"), group);
    m_checkpointing->setObjectName(QStringLiteral("gradientCheckpointing"));
    m_checkpointing->setToolTip(
        tr("Gradient checkpointing: much less activation memory for about a third more "
           "compute."));
    m_seed = spinBox(core::run_defaults::kSeed, tr("The same seed and settings give the same run."), group);
    m_seed->setObjectName(QStringLiteral("seed"));
    m_seed->setGroupSeparatorShown(false);
    form->addRow(buddyLabel(tr("Max &length:"), m_maxLength), m_maxLength);
    form->addRow(buddyLabel(tr("&Validate every:"), m_evaluationInterval), m_evaluationInterval);
    form->addRow(buddyLabel(tr("Checkpo&inting:"), m_checkpointing), m_checkpointing);
    form->addRow(buddyLabel(tr("S&eed:"), m_seed), m_seed);

    connect(m_maxLength, &QSpinBox::valueChanged, this, &BudgetPage::changed);
    connect(m_evaluationInterval, &QSpinBox::valueChanged, this, &BudgetPage::changed);
    connect(m_checkpointing, &QCheckBox::toggled, this, &BudgetPage::changed);
    connect(m_seed, &QSpinBox::valueChanged, this, &BudgetPage::changed);
    return group;
}

QWidget *BudgetPage::createAdvancedGroup()
{
    auto *group = new QGroupBox(tr("Advanced settings"), this);
    auto *layout = new QVBoxLayout(group);
    auto *hint = new QLabel(
        tr("Every other setting of the run, written as in a run configuration file for <tt>emloc run</tt> "
           "(see the README's configuration reference), for example <tt>{\"train\": {\"schedule\": "
           "\"linear\"}, \"evaluate\": {\"metric\": \"contains\"}, \"correct\": {\"clamp\": 2}}</tt>. "
           "The engine checks it as <tt>emloc run</tt> would; the fields above set the rest."),
        group);
    hint->setObjectName(QStringLiteral("hint"));
    hint->setWordWrap(true);
    m_advanced = new QPlainTextEdit(group);
    m_advanced->setObjectName(QStringLiteral("advancedSettings"));
    m_advanced->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_advanced->setPlaceholderText(tr("Empty: every other setting keeps core's default."));
    m_advanced->setTabChangesFocus(true);
    m_advanced->setFixedHeight(m_advanced->fontMetrics().lineSpacing() * 7);
    m_advancedMessage = new ValidationLabel(group);
    layout->addWidget(hint);
    layout->addWidget(m_advanced);
    layout->addWidget(m_advancedMessage);
    connect(m_advanced, &QPlainTextEdit::textChanged, this, [this] {
        updateAdvanced();
        Q_EMIT changed();
    });
    return group;
}

// Keeps the last text that is a JSON object; a syntax error is shown (and blocks Run) until fixed.
void BudgetPage::updateAdvanced()
{
    const QByteArray text = m_advanced->toPlainText().trimmed().toUtf8();
    if (text.isEmpty()) {
        m_advancedSettings = {};
        m_advancedMessage->clear();
        return;
    }
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject()) {
        const QString what = error.error != QJsonParseError::NoError
                                 ? tr("not valid JSON: %1 on line %2")
                                       .arg(error.errorString())
                                       .arg(text.left(error.offset).count('\n') + 1)
                                 : tr("it must be a JSON object: { ... }");
        m_advancedMessage->setMessage(ValidationLabel::State::Error, tr("Advanced settings: %1.").arg(what));
        return;
    }
    m_advancedSettings = document.object();
    m_advancedMessage->clear();
}

void BudgetPage::readFrom(const Project &project)
{
    QList<QWidget *> widgets{
        m_budgetMode,    m_ratioMode, m_budget, m_ratio,       m_calibration,  m_visionTower,
        m_visionRatio,   m_rank,      m_alpha,  m_dropout,     m_learningRate, m_batch,
        m_accumulation,  m_steps,     m_warmup, m_weightDecay, m_maxLength,    m_evaluationInterval,
        m_checkpointing, m_seed,      m_epochs, m_advanced};
    for (QCheckBox *box : m_targets)
        widgets << box;
    std::vector<std::unique_ptr<QSignalBlocker>> blockers;
    for (QWidget *widget : widgets)
        blockers.push_back(std::make_unique<QSignalBlocker>(widget));

    const BudgetSettings &budget = project.budget;
    (budget.mode == BudgetSettings::Mode::MemoryBudget ? m_budgetMode : m_ratioMode)->setChecked(true);
    m_budget->setValue(budget.budgetGiB);
    m_ratio->setValue(budget.ratio);
    m_calibration->setValue(budget.calibrationSamples);
    m_visionTower->setChecked(budget.visionRatio > 0);
    m_visionRatio->setValue(budget.visionRatio > 0 ? budget.visionRatio : core::run_defaults::kRatio.value);
    updateVisionTower();
    m_budget->setEnabled(m_budgetMode->isChecked());
    m_ratio->setEnabled(m_ratioMode->isChecked());

    const TrainingSettings &t = project.training;
    m_rank->setValue(t.loraRank);
    m_alpha->setValue(t.loraAlpha);
    m_dropout->setValue(t.loraDropout);
    for (QCheckBox *box : m_targets)
        box->setChecked(t.targetModules.contains(box->property("module").toString()));
    m_learningRate->setValue(t.learningRate);
    m_batch->setValue(t.batchSize);
    m_accumulation->setValue(t.gradientAccumulation);
    m_steps->setValue(t.steps);
    m_epochs->setValue(t.epochs);
    m_epochs->setEnabled(t.steps == 0);
    m_warmup->setValue(t.warmupFraction * 100.0);
    m_weightDecay->setValue(t.weightDecay);
    m_maxLength->setValue(t.maxLength);
    m_evaluationInterval->setValue(t.evaluationInterval);
    m_checkpointing->setChecked(t.gradientCheckpointing);
    m_seed->setValue(t.seed);

    m_advancedSettings = project.advanced;
    m_advanced->setPlainText(
        project.advanced.isEmpty()
            ? QString()
            : QString::fromUtf8(QJsonDocument(project.advanced).toJson(QJsonDocument::Indented)));
    updateAdvanced();

    m_device = budget.device;
    selectDevice(m_device);
    updateEffectiveBatch();
    updateFit();
}

void BudgetPage::writeTo(Project &project) const
{
    BudgetSettings &budget = project.budget;
    budget.device = m_device;
    budget.mode =
        m_budgetMode->isChecked() ? BudgetSettings::Mode::MemoryBudget : BudgetSettings::Mode::Ratio;
    budget.budgetGiB = m_budget->value();
    budget.ratio = m_ratio->value();
    budget.calibrationSamples = m_calibration->value();
    budget.visionRatio = m_visionTower->isChecked() ? m_visionRatio->value() : 0.0;

    TrainingSettings &t = project.training;
    t.loraRank = m_rank->value();
    t.loraAlpha = m_alpha->value();
    t.loraDropout = m_dropout->value();
    t.targetModules.clear();
    for (QCheckBox *box : m_targets) {
        if (box->isChecked())
            t.targetModules << box->property("module").toString();
    }
    t.learningRate = m_learningRate->value();
    t.batchSize = m_batch->value();
    t.gradientAccumulation = m_accumulation->value();
    t.steps = m_steps->value();
    t.epochs = m_epochs->value();
    t.warmupFraction = m_warmup->value() / 100.0;
    t.weightDecay = m_weightDecay->value();
    t.maxLength = m_maxLength->value();
    t.evaluationInterval = m_evaluationInterval->value();
    t.gradientCheckpointing = m_checkpointing->isChecked();
    t.seed = m_seed->value();
    project.advanced = m_advancedSettings;
}

QString BudgetPage::problem() const
{
    bool anyTarget = false;
    for (QCheckBox *box : m_targets)
        anyTarget = anyTarget || box->isChecked();
    if (!anyTarget)
        return tr("Choose at least one LoRA target on the Budget page.");
    if (m_fit->state() == ValidationLabel::State::Error)
        return m_fit->text();
    if (m_advancedMessage->state() == ValidationLabel::State::Error)
        return m_advancedMessage->text();
    return {};
}

void BudgetPage::refreshDevices()
{
    if (m_refresh)
        m_refresh->setEnabled(false);
    runInBackground(
        this, [] { return core::listDevices(); },
        [this](const std::vector<core::DeviceInfo> &devices) {
            m_refresh->setEnabled(true);
            setDevices(devices);
        });
}

void BudgetPage::setDevices(const std::vector<core::DeviceInfo> &devices)
{
    m_devices = devices;
    m_listing = true;
    m_deviceTree->clear();
    for (const core::DeviceInfo &device : devices) {
        const QString id = QString::fromStdString(device.id);
        auto *item = new QTreeWidgetItem(
            m_deviceTree, {QStringLiteral("%1  (%2)").arg(QString::fromStdString(device.name), id),
                           formatBytes(device.totalBytes), formatBytes(device.freeBytes)});
        item->setData(0, Qt::UserRole, id);
        item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
        item->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
    }
    m_listing = false;
    if (m_device.isEmpty()) {
        // A new project runs on the first GPU when there is one.
        for (const core::DeviceInfo &device : devices) {
            if (m_device.isEmpty() || device.id.rfind("cuda", 0) == 0) {
                m_device = QString::fromStdString(device.id);
                if (device.id.rfind("cuda", 0) == 0)
                    break;
            }
        }
    }
    selectDevice(m_device);
    updateFit();
    Q_EMIT devicesChanged();
}

QString BudgetPage::selectedDevice() const
{
    return m_device;
}

qint64 BudgetPage::budgetBytes() const
{
    return m_budgetMode->isChecked() ? static_cast<qint64>(m_budget->value() * kGiB) : 0;
}

void BudgetPage::selectDevice(const QString &id)
{
    const QStringList ids = deviceIds(id); // none selected for a device this build does not know
    m_listing = true;
    m_deviceTree->clearSelection();
    m_deviceTree->setCurrentItem(nullptr);
    for (int i = 0; i < m_deviceTree->topLevelItemCount(); ++i) {
        QTreeWidgetItem *item = m_deviceTree->topLevelItem(i);
        if (ids.contains(item->data(0, Qt::UserRole).toString())) {
            if (!m_deviceTree->currentItem())
                m_deviceTree->setCurrentItem(item);
            item->setSelected(true);
        }
    }
    m_listing = false;
    updateSeveralGpus();
}

QString BudgetPage::selectionDevice() const
{
    QStringList cpus;
    std::vector<int> gpus;
    // In the tree's order, so that the first GPU listed is rank 0's.
    for (int i = 0; i < m_deviceTree->topLevelItemCount(); ++i) {
        QTreeWidgetItem *item = m_deviceTree->topLevelItem(i);
        if (!item->isSelected())
            continue;
        const QString id = item->data(0, Qt::UserRole).toString();
        try {
            const core::DeviceSpec device = core::parseDevice(id.toStdString());
            if (device.isCuda)
                gpus.push_back(device.index);
            else
                cpus << id;
        } catch (const std::exception &) {
            cpus << id;
        }
    }
    // The CPU beside GPUs is not a process of its own: the GPUs run the job.
    if (!gpus.empty())
        return QString::fromStdString(core::gpuListDevice(gpus));
    return cpus.isEmpty() ? QString() : cpus.front();
}

QList<const core::DeviceInfo *> BudgetPage::chosenDevices() const
{
    QList<const core::DeviceInfo *> chosen;
    for (const QString &id : deviceIds(m_device)) {
        const core::DeviceInfo *found = nullptr;
        for (const core::DeviceInfo &candidate : m_devices)
            if (QString::fromStdString(candidate.id) == id)
                found = &candidate;
        chosen << found;
    }
    if (chosen.isEmpty())
        chosen << nullptr; // a device this build does not know: updateFit() says so
    return chosen;
}

void BudgetPage::updateSeveralGpus()
{
    int gpus = 0;
    for (const core::DeviceInfo &device : m_devices)
        gpus += device.id.rfind("cuda", 0) == 0 ? 1 : 0;
    const int chosen = static_cast<int>(chosenDevices().size());
    m_severalGpus->setVisible(gpus > 1);
    m_severalGpus->setText(
        chosen > 1
            ? tr("%1 GPUs: the job runs one process on each, each with the whole emulator and its share "
                 "of every step (data-parallel); stage 3 and the evaluation run on the first. The "
                 "budget is each GPU's.")
                  .arg(chosen)
            : tr("Ctrl-click to pick several GPUs: the job then runs one process on each (data-parallel)."));
}

void BudgetPage::updateFit()
{
    // Several GPUs: the budget is each one's, so the smallest one decides.
    const QList<const core::DeviceInfo *> chosen = chosenDevices();
    const core::DeviceInfo *device = chosen.isEmpty() ? nullptr : chosen.front();
    for (const core::DeviceInfo *candidate : chosen)
        if (!candidate || (device && candidate->freeBytes < device->freeBytes))
            device = candidate;
    if (!m_devices.empty() && !m_device.isEmpty() && !device) {
        m_fit->setMessage(
            ValidationLabel::State::Error,
            tr("The project runs on %1, which this computer does not have. Choose a device above.")
                .arg(m_device));
        return;
    }
    if (m_ratioMode->isChecked()) {
        m_fit->setMessage(
            ValidationLabel::State::Info,
            tr("Each compressed layer keeps %1 % of its parameters; the memory this takes is measured "
               "during the run.")
                .arg(QLocale().toString(m_ratio->value() * 100.0, 'f', 0)));
        return;
    }
    const qint64 budget = budgetBytes();
    // The smallest emulator the planner knows of (its curve does not depend on the budget, so it is
    // current while the preview for a just-typed budget is still being computed).
    qint64 smallestNeed = 0;
    for (const PlanPoint &point : m_preview.curve) {
        const qint64 need = std::max({point.constructionBytes, point.fineTuningBytes, point.correctionBytes});
        smallestNeed = smallestNeed > 0 ? std::min(smallestNeed, need) : need;
    }
    if (budget <= 0) {
        m_fit->setMessage(ValidationLabel::State::Error,
                          tr("A budget of %1 leaves no memory for any emulator. Enter a larger budget.")
                              .arg(formatBytes(budget)));
    } else if (m_preview.error.isEmpty() && !m_preview.fits && m_preview.budgetBytes == budget) {
        m_fit->setMessage(ValidationLabel::State::Error,
                          tr("No emulator fits %1: %2").arg(formatBytes(budget), m_preview.advice));
    } else if (m_preview.error.isEmpty() && budget < smallestNeed) {
        m_fit->setMessage(ValidationLabel::State::Error,
                          tr("%1 is less than any emulator of this model needs: the smallest takes %2. Enter "
                             "at least %2.")
                              .arg(formatBytes(budget), formatBytes(smallestNeed)));
    } else if (device && budget > device->totalBytes) {
        m_fit->setMessage(ValidationLabel::State::Error,
                          tr("The budget (%1) is more than %2 has in all (%3). Lower the budget.")
                              .arg(formatBytes(budget), QString::fromStdString(device->id),
                                   formatBytes(device->totalBytes)));
    } else if (device && budget > device->freeBytes) {
        m_fit->setMessage(
            ValidationLabel::State::Warning,
            tr("The budget (%1) is more than %2 has free now (%3). Close other programs first, or "
               "lower the budget.")
                .arg(formatBytes(budget), QString::fromStdString(device->id),
                     formatBytes(device->freeBytes)));
    } else if (device && chosen.size() > 1) {
        m_fit->setMessage(
            ValidationLabel::State::Ok,
            tr("The emulator is sized so that fine-tuning stays within %1 on each of the %2 GPUs "
               "(%3 free on %4, the fullest).")
                .arg(formatBytes(budget))
                .arg(chosen.size())
                .arg(formatBytes(device->freeBytes), QString::fromStdString(device->id)));
    } else {
        m_fit->setMessage(
            ValidationLabel::State::Ok,
            device
                ? tr("The emulator is sized so that fine-tuning stays within %1 (%2 free on %3).")
                      .arg(formatBytes(budget), formatBytes(device->freeBytes),
                           QString::fromStdString(device->id))
                : tr("The emulator is sized so that fine-tuning stays within %1.").arg(formatBytes(budget)));
    }
}

void BudgetPage::updateEffectiveBatch()
{
    const int effective = m_batch->value() * m_accumulation->value();
    m_effectiveBatch->setText(tr("= %n sequence(s) per step", nullptr, effective));
}

} // namespace emloc::ui
