#pragma once

#include "pages/project_page.h"
#include "project/plan_preview.h"

#include "emloc/api/device.h"

#include <QJsonObject>

#include <vector>

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QRadioButton;
class QSpinBox;
class QTreeWidget;

namespace emloc::ui {

class ScientificSpinBox;
class TradeOffPlot;
class ValidationLabel;

// Where to run, how large the emulator may be, and the LoRA/optimizer settings (they all decide
// whether fine-tuning fits in memory). Devices are listed off the GUI thread: probing CUDA can take
// a moment and the window must appear at once.
class BudgetPage : public ProjectPage
{
    Q_OBJECT

public:
    explicit BudgetPage(QWidget *parent = nullptr);

    void readFrom(const Project &project) override;
    void writeTo(Project &project) const override;
    QString problem() const override;

    // Lists the devices again in the background; devicesChanged() follows.
    void refreshDevices();
    // Replaces the device list (tests and the background listing).
    void setDevices(const std::vector<core::DeviceInfo> &devices);
    const std::vector<core::DeviceInfo> &devices() const { return m_devices; }
    QString selectedDevice() const;
    // The memory budget the run must stay in; 0 in ratio mode.
    qint64 budgetBytes() const;

    QSpinBox *loraRankBox() const { return m_rank; }
    QTreeWidget *deviceTree() const { return m_deviceTree; }
    ValidationLabel *fitMessage() const { return m_fit; }
    TradeOffPlot *tradeOffPlot() const { return m_tradeOff; }

    // The planner's curve for the current project (MainWindow recomputes it after each edit).
    void setPlanPreview(const PlanPreview &preview);
    const PlanPreview &planPreview() const { return m_preview; }
    // The last run's emulator.json (empty: no run yet): its retained-energy curve joins the plot.
    void setCalibration(const QJsonObject &emulatorJson);

    QPushButton *catalogButton() const { return m_catalog; }

Q_SIGNALS:
    void devicesChanged();
    // "What fits…": the window answers with the catalog for the selected device's memory.
    void catalogRequested();

private:
    QWidget *createDeviceGroup();
    QWidget *createEmulatorGroup();
    QWidget *createLoraGroup();
    QWidget *createOptimizerGroup();
    QWidget *createSequenceGroup();
    QWidget *createTradeOffGroup();
    QWidget *createAdvancedGroup();
    void updateAdvanced();
    void updateTradeOffSummary();
    void selectDevice(const QString &id);
    // The device the tree's selection names: one, or "cuda:0,1" for several GPUs; "" for none.
    QString selectionDevice() const;
    // The listed devices the project runs on (nullptr for one this computer lacks).
    QList<const core::DeviceInfo *> chosenDevices() const;
    void updateSeveralGpus();
    static QString stepTimeText(const PlanPreview &preview);
    void updateFit();
    void updateVisionTower(); // enabled for a vision-language model only
    void updateEffectiveBatch();

    std::vector<core::DeviceInfo> m_devices;
    QVector<double> m_energyRatios;   // the last run's retained-energy curve
    QVector<double> m_energyRetained; // (empty before a run)
    QString m_device;                 // as in the project; may name a device that is not listed (yet)
    bool m_listing = false;

    QTreeWidget *m_deviceTree = nullptr;
    QLabel *m_severalGpus = nullptr;
    QPushButton *m_refresh = nullptr;
    QPushButton *m_catalog = nullptr;
    QRadioButton *m_budgetMode = nullptr;
    QRadioButton *m_ratioMode = nullptr;
    QDoubleSpinBox *m_budget = nullptr;
    QDoubleSpinBox *m_ratio = nullptr;
    QSpinBox *m_calibration = nullptr;
    QCheckBox *m_visionTower = nullptr; // compress a vision-language model's tower too
    QDoubleSpinBox *m_visionRatio = nullptr;
    ValidationLabel *m_fit = nullptr;
    TradeOffPlot *m_tradeOff = nullptr;
    QLabel *m_tradeOffSummary = nullptr;
    PlanPreview m_preview;

    QSpinBox *m_rank = nullptr;
    QDoubleSpinBox *m_alpha = nullptr;
    QDoubleSpinBox *m_dropout = nullptr;
    QList<QCheckBox *> m_targets;

    ScientificSpinBox *m_learningRate = nullptr;
    QSpinBox *m_batch = nullptr;
    QSpinBox *m_accumulation = nullptr;
    QLabel *m_effectiveBatch = nullptr;
    QSpinBox *m_steps = nullptr;
    QDoubleSpinBox *m_epochs = nullptr;
    QDoubleSpinBox *m_warmup = nullptr;
    QDoubleSpinBox *m_weightDecay = nullptr;

    QSpinBox *m_maxLength = nullptr;
    QSpinBox *m_evaluationInterval = nullptr;
    QCheckBox *m_checkpointing = nullptr;
    QSpinBox *m_seed = nullptr;

    QPlainTextEdit *m_advanced = nullptr;
    ValidationLabel *m_advancedMessage = nullptr;
    QJsonObject m_advancedSettings; // the last text that parsed as a JSON object
};

} // namespace emloc::ui
