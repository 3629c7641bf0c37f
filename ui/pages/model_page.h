#pragma once

#include "inspect/inspection.h"
#include "pages/project_page.h"

class QFormLayout;
class QGroupBox;
class QLabel;

namespace emloc::ui {

class PathField;
class ValidationLabel;

// The base model to fine-tune: a Hugging Face folder or a GGUF file, with what its metadata says.
class ModelPage : public ProjectPage
{
    Q_OBJECT

public:
    explicit ModelPage(QWidget *parent = nullptr);

    void readFrom(const Project &project) override;
    void writeTo(Project &project) const override;
    QString problem() const override;

    // Reads the chosen model (the engine's reader; without one the page does not judge it).
    void setInspector(ModelInspector inspector);
    const ModelSummary &summary() const { return m_summary; }
    PathField *pathField() const { return m_path; }
    ValidationLabel *validation() const { return m_validation; }

private:
    void inspect(const QString &path);

    PathField *m_path = nullptr;
    ValidationLabel *m_validation = nullptr;
    QGroupBox *m_details = nullptr;
    QLabel *m_name = nullptr;
    QLabel *m_format = nullptr;
    QLabel *m_architecture = nullptr;
    QLabel *m_layers = nullptr;
    QLabel *m_hidden = nullptr;
    QLabel *m_vocabulary = nullptr;
    QLabel *m_context = nullptr;
    QLabel *m_parameters = nullptr;
    QLabel *m_storage = nullptr;
    QLabel *m_size = nullptr;
    QLabel *m_visionTower = nullptr; // the three vision rows show for vision-language models only
    QLabel *m_projector = nullptr;
    QLabel *m_imageTiles = nullptr;
    QFormLayout *m_form = nullptr;
    ModelInspector m_inspector;
    ModelSummary m_summary;
};

} // namespace emloc::ui
