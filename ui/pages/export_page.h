#pragma once

#include "pages/project_page.h"

class QCheckBox;
class QLabel;
class QPushButton;

namespace emloc::ui {

class PathField;
class ValidationLabel;

// Where the corrected LoRA goes and in which formats: a PEFT adapter, a merged model, a GGUF adapter.
class ExportPage : public ProjectPage
{
    Q_OBJECT

public:
    explicit ExportPage(QWidget *parent = nullptr);

    void readFrom(const Project &project) override;
    void writeTo(Project &project) const override;
    QString problem() const override;

    // Whether Export can be pressed, and if not, why.
    void setExportAvailable(bool available, const QString &reason);
    PathField *folderField() const { return m_folder; }
    ValidationLabel *folderValidation() const { return m_folderValidation; }
    QPushButton *exportButton() const { return m_export; }
    // The vision projector is a format of vision-language models only: offered for them alone.
    void setVisionLanguage(bool visionLanguage);

Q_SIGNALS:
    void exportRequested();

protected:
    // The folder may have been created (by a run) since it was chosen: what the page says is re-read.
    void showEvent(QShowEvent *event) override;

private:
    void validateFolder();
    void updateButton();
    QCheckBox *addFormat(QLayout *layout, const QString &text, const QString &description);

    PathField *m_folder = nullptr;
    ValidationLabel *m_folderValidation = nullptr;
    QCheckBox *m_peft = nullptr;
    QCheckBox *m_merged = nullptr;
    QCheckBox *m_gguf = nullptr;
    QCheckBox *m_ollama = nullptr;
    QCheckBox *m_mmproj = nullptr;
    QPushButton *m_export = nullptr;
    QLabel *m_exportHint = nullptr;
    bool m_available = false;
};

} // namespace emloc::ui
