#pragma once

#include "project/plan_preview.h"
#include "project/project.h"

#include <QDialog>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;
class QTreeWidget;

namespace emloc::ui {

// "What fits on this device": every model of the built-in catalog against a memory size, for inference,
// for LoRA on the whole model and for EMLoC at the largest ratio that fits, before any download. The
// memory starts at the chosen device's and can be typed (e.g. the 24 GB card one is about to buy).
class CatalogFitDialog : public QDialog
{
    Q_OBJECT

public:
    CatalogFitDialog(const Project &project, CatalogFitProvider provider, qint64 memoryBytes, bool cuda,
                     QWidget *parent = nullptr);

    QTreeWidget *table() const { return m_table; }
    QDoubleSpinBox *memoryBox() const { return m_memory; }
    QComboBox *deviceBox() const { return m_device; }
    QComboBox *valuesBox() const { return m_values; }
    QSpinBox *lengthBox() const { return m_length; }
    QLabel *summary() const { return m_summary; }

    // The query the inputs describe.
    CatalogQuery query() const;

private:
    void refresh();

    Project m_project;
    CatalogFitProvider m_provider;
    QDoubleSpinBox *m_memory = nullptr;
    QComboBox *m_device = nullptr;
    QComboBox *m_values = nullptr;
    QSpinBox *m_length = nullptr;
    QTreeWidget *m_table = nullptr;
    QLabel *m_summary = nullptr;
};

} // namespace emloc::ui
