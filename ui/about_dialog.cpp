#include "about_dialog.h"

#include "emloc/api/version.h"

#include "widgets/qcustomplot_include.h"
#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace emloc::ui {

AboutDialog::AboutDialog(const core::BuildInfo &info, QWidget *parent) : QDialog(parent)
{
    setObjectName(QStringLiteral("aboutDialog"));
    setWindowTitle(tr("About %1").arg(QString::fromLatin1(kProductName)));

    QString cuda;
    if (!info.cudaCompiled)
        cuda = tr("not compiled in (CPU only)");
    else if (info.cudaAvailable)
        cuda = tr("%1, GPU available").arg(QString::fromStdString(info.cudaVersion));
    else
        cuda = tr("%1, no usable GPU found").arg(QString::fromStdString(info.cudaVersion));
    const QString qtVersion = QString::fromLatin1(qVersion());
    const QString torchVersion = info.libtorchVersion.empty() ? tr("no engine attached")
                                                              : QString::fromStdString(info.libtorchVersion);

    auto *layout = new QVBoxLayout(this);
    layout->setSpacing(12);
    layout->setContentsMargins(24, 20, 24, 16);

    auto *header = new QHBoxLayout;
    header->setSpacing(16);
    auto *icon = new QLabel(this);
    icon->setPixmap(QIcon(QStringLiteral(":/icons/emloc-studio.svg")).pixmap(72, 72));
    auto *titleBlock = new QVBoxLayout;
    auto *title = new QLabel(QStringLiteral("<span style='font-size:17pt; font-weight:600'>%1</span>")
                                 .arg(QString::fromLatin1(kProductName)),
                             this);
    auto *version = new QLabel(tr("Version %1").arg(QString::fromLatin1(kVersion)), this);
    version->setObjectName(QStringLiteral("aboutVersion"));
    auto *description =
        new QLabel(tr("Fine-tune language models that are too big for your GPU: LoRA is trained on "
                      "a low-rank emulator of the model and then corrected for the original "
                      "(EMLoC, NeurIPS 2025)."),
                   this);
    description->setWordWrap(true);
    description->setMinimumWidth(380);
    titleBlock->addWidget(title);
    titleBlock->addWidget(version);
    titleBlock->addSpacing(6);
    titleBlock->addWidget(description);
    header->addWidget(icon, 0, Qt::AlignTop);
    header->addLayout(titleBlock, 1);
    layout->addLayout(header);

    auto *versions = new QFormLayout;
    versions->setLabelAlignment(Qt::AlignRight);
    versions->setHorizontalSpacing(14);
    const auto addRow = [this, versions](const QString &name, const QString &value, const char *objectName) {
        auto *label = new QLabel(value, this);
        label->setObjectName(QString::fromLatin1(objectName));
        label->setTextInteractionFlags(Qt::TextSelectableByMouse);
        versions->addRow(name + QLatin1Char(':'), label);
        m_versions += name + QStringLiteral(": ") + value + QLatin1Char('\n');
    };
    addRow(QString::fromLatin1(kProductName), QString::fromLatin1(kVersion), "emlocVersion");
    addRow(tr("Qt"), tr("%1 (built with %2)").arg(qtVersion, QStringLiteral(QT_VERSION_STR)), "qtVersion");
    addRow(tr("LibTorch"), torchVersion, "libtorchVersion");
    addRow(tr("CUDA"), cuda, "cudaVersion");
    addRow(tr("QCustomPlot"), QStringLiteral(QCUSTOMPLOT_VERSION_STR), "qcustomplotVersion");
    layout->addLayout(versions);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto *copy = buttons->addButton(tr("&Copy Versions"), QDialogButtonBox::ActionRole);
    copy->setToolTip(tr("Copy the versions for a bug report."));
    connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(m_versions); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

} // namespace emloc::ui
