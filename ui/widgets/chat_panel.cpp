#include "widgets/chat_panel.h"

#include "widgets/validation_label.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QThread>

namespace emloc::ui {

ChatPanel::ChatPanel(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("chatPanel"));
    auto *layout = new QGridLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_prompt = new QLineEdit(this);
    m_prompt->setPlaceholderText(tr("Ask both models something from your task…"));
    m_send = new QPushButton(tr("&Ask"), this);
    m_send->setDefault(true);
    m_stop = new QPushButton(tr("S&top"), this);
    m_original = new QPlainTextEdit(this);
    m_corrected = new QPlainTextEdit(this);
    for (QPlainTextEdit *answer : {m_original, m_corrected}) {
        answer->setReadOnly(true);
        answer->setMinimumHeight(fontMetrics().height() * 6);
    }
    m_staleNote = new ValidationLabel(this);
    m_staleNote->setObjectName(QStringLiteral("chatStaleNote"));
    auto *row = new QHBoxLayout;
    row->addWidget(m_prompt, 1);
    row->addWidget(m_send);
    row->addWidget(m_stop);
    layout->addLayout(row, 0, 0, 1, 2);
    m_imageRow = new QWidget(this);
    auto *imageLayout = new QHBoxLayout(m_imageRow);
    imageLayout->setContentsMargins(0, 0, 0, 0);
    m_chooseImage = new QPushButton(tr("&Image…"), m_imageRow);
    m_chooseImage->setObjectName(QStringLiteral("chatChooseImage"));
    m_imageThumbnail = new QLabel(m_imageRow);
    m_imageName = new QLabel(m_imageRow);
    m_imageName->setObjectName(QStringLiteral("chatImageName"));
    m_clearImage = new QPushButton(tr("No image"), m_imageRow);
    imageLayout->addWidget(m_chooseImage);
    imageLayout->addWidget(m_imageThumbnail);
    imageLayout->addWidget(m_imageName, 1);
    imageLayout->addWidget(m_clearImage);
    layout->addWidget(m_imageRow, 1, 0, 1, 2);
    m_imageRow->hide();
    setImage({});
    layout->addWidget(m_staleNote, 2, 0, 1, 2);
    layout->addWidget(new QLabel(tr("Original model"), this), 3, 0);
    layout->addWidget(new QLabel(tr("With the EMLoC adapter (the one Export writes)"), this), 3, 1);
    layout->addWidget(m_original, 4, 0);
    layout->addWidget(m_corrected, 4, 1);

    connect(m_send, &QPushButton::clicked, this, [this] { ask(m_prompt->text()); });
    connect(m_prompt, &QLineEdit::returnPressed, this, [this] { ask(m_prompt->text()); });
    connect(m_stop, &QPushButton::clicked, this, &ChatPanel::stop);
    connect(m_chooseImage, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Image to ask about"), m_image.isEmpty() ? QString() : QFileInfo(m_image).path(),
            tr("Images (*.png *.jpg *.jpeg *.webp);;All files (*)"));
        if (!path.isEmpty())
            setImage(path);
    });
    connect(m_clearImage, &QPushButton::clicked, this, [this] { setImage({}); });
    m_drainTimer.setInterval(33);
    connect(&m_drainTimer, &QTimer::timeout, this, &ChatPanel::drainStream);
    updateButtons();
}

ChatPanel::~ChatPanel()
{
    stop();
    if (m_thread)
        m_thread->wait();
}

void ChatPanel::setGenerator(ChatGenerator generator)
{
    m_generator = std::move(generator);
    updateButtons();
}

void ChatPanel::setProject(const Project &project)
{
    m_project = project;
}

void ChatPanel::setStaleNote(const QString &note)
{
    if (note.isEmpty())
        m_staleNote->clear();
    else
        m_staleNote->setMessage(ValidationLabel::State::Warning, note);
}

void ChatPanel::setAcceptsImages(bool accepts)
{
    m_imageRow->setVisible(accepts);
    if (!accepts)
        setImage({});
}

void ChatPanel::setImage(const QString &path)
{
    m_image = path;
    m_imageName->setText(path.isEmpty() ? tr("No image: the prompt alone is asked.")
                                        : tr("With the image %1").arg(QFileInfo(path).fileName()));
    m_imageName->setToolTip(path);
    m_clearImage->setEnabled(!path.isEmpty());
    // A glance at the picture where Qt can decode it (the engine reads it either way, WebP included).
    const QImage picture = path.isEmpty() ? QImage() : QImage(path);
    m_imageThumbnail->setPixmap(picture.isNull()
                                    ? QPixmap()
                                    : QPixmap::fromImage(picture.scaledToHeight(fontMetrics().height() * 2,
                                                                                Qt::SmoothTransformation)));
    m_imageThumbnail->setVisible(!picture.isNull());
}

void ChatPanel::ask(const QString &prompt)
{
    if (!m_generator || m_thread || prompt.trimmed().isEmpty())
        return;
    m_original->clear();
    m_corrected->clear();
    // Said again where the answer appears: it comes from an adapter of an earlier run.
    if (m_staleNote->state() == ValidationLabel::State::Warning)
        m_corrected->setPlainText(tr("[From the corrected adapter of an earlier run]\n"));
    m_stopRequested = std::make_shared<std::atomic<bool>>(false);
    m_stream = std::make_shared<Locked<Stream>>();
    const auto stopRequested = m_stopRequested;
    const auto stream = m_stream;
    const ChatGenerator generator = m_generator;
    const Project project = m_project;
    const QString image = m_image;
    // Both answers on one worker thread, one model at a time (memory: only one model is resident).
    m_thread = QThread::create([generator, project, prompt, image, stopRequested, stream] {
        for (const QString which : {QStringLiteral("original"), QStringLiteral("corrected")}) {
            auto deliver = [&stream, &which](const QString &piece) {
                stream->with([&](Stream &text) {
                    (which == QLatin1String("original") ? text.original : text.corrected) += piece;
                });
            };
            try {
                generator(project, which, prompt, image, [&](const QString &piece) {
                    deliver(piece);
                    return !stopRequested->load();
                });
            } catch (const std::exception &e) {
                deliver(tr("\n[%1]").arg(QString::fromUtf8(e.what())));
            }
            if (stopRequested->load())
                break;
        }
    });
    connect(m_thread, &QThread::finished, this, &ChatPanel::onThreadFinished);
    m_thread->start();
    m_drainTimer.start();
    updateButtons();
}

void ChatPanel::stop()
{
    if (m_stopRequested)
        m_stopRequested->store(true);
}

void ChatPanel::append(QPlainTextEdit *target, const QString &piece)
{
    QTextCursor cursor = target->textCursor();
    cursor.movePosition(QTextCursor::End);
    cursor.insertText(piece);
    target->setTextCursor(cursor);
}

void ChatPanel::drainStream()
{
    if (!m_stream)
        return;
    const Stream text = m_stream->take();
    if (!text.original.isEmpty())
        append(m_original, text.original);
    if (!text.corrected.isEmpty())
        append(m_corrected, text.corrected);
}

void ChatPanel::onThreadFinished()
{
    m_drainTimer.stop();
    drainStream(); // what came after the last tick
    if (m_thread)
        m_thread->deleteLater();
    m_thread = nullptr;
    updateButtons();
    Q_EMIT finished();
}

void ChatPanel::updateButtons()
{
    m_send->setEnabled(m_generator && !m_thread);
    m_stop->setEnabled(m_thread != nullptr);
}

} // namespace emloc::ui
