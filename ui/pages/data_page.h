#pragma once

#include "inspect/inspection.h"
#include "pages/project_page.h"
#include "project/dataset_stats.h"

class QDoubleSpinBox;
class QLabel;
class QTableWidget;
class QTextBrowser;

namespace emloc::ui {

class LengthHistogram;
class PathField;
class ValidationLabel;

// The training records (also the calibration samples of the emulator) and the validation split.
class DataPage : public ProjectPage
{
    Q_OBJECT

public:
    explicit DataPage(QWidget *parent = nullptr);

    void readFrom(const Project &project) override;
    void writeTo(Project &project) const override;
    QString problem() const override;

    // Reads the chosen files (the engine's reader; without one the page does not judge them).
    void setInspector(DatasetInspector inspector);
    const DatasetSummary &summary() const { return m_summary; }
    PathField *trainingField() const { return m_training; }
    ValidationLabel *trainingValidation() const { return m_trainingValidation; }
    QTableWidget *preview() const { return m_preview; }

    // The engine's view of the training file under the model's template and tokenizer (MainWindow
    // computes it off the GUI thread after each edit).
    void setStats(const DatasetStats &stats);
    const DatasetStats &stats() const { return m_stats; }
    LengthHistogram *lengthHistogram() const { return m_histogram; }
    QTextBrowser *renderedExample() const { return m_example; }

private:
    DatasetSummary inspect(const QString &path) const;
    void inspectTraining(const QString &path);
    void inspectValidation(const QString &path);

    PathField *m_training = nullptr;
    ValidationLabel *m_trainingValidation = nullptr;
    QDoubleSpinBox *m_holdOutPercent = nullptr;
    PathField *m_validationPath = nullptr;
    ValidationLabel *m_validationValidation = nullptr;
    QTableWidget *m_preview = nullptr;
    QLabel *m_previewHint = nullptr;
    QLabel *m_statsText = nullptr;
    LengthHistogram *m_histogram = nullptr;
    QTextBrowser *m_example = nullptr;
    DatasetStats m_stats;
    DatasetInspector m_inspector;
    DatasetSummary m_summary;
    DatasetSummary m_validationSummary;
};

} // namespace emloc::ui
