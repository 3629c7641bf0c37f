#pragma once

#include "jobs/locked.h"
#include "project/chat.h"

#include <QPointer>
#include <QThread>
#include <QTimer>
#include <QWidget>

#include <atomic>
#include <memory>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace emloc::ui {

class ValidationLabel;

// Try the result: one prompt answered by the original model and by the original with the corrected
// adapter, side by side, the tokens streaming in as they are generated (on a worker thread, which
// appends them to a Locked buffer that a ~30 Hz GUI timer drains: one signal per token would flood the
// event loop, and data riding in queued calls is invisible to ThreadSanitizer, see locked.h).
class ChatPanel : public QWidget
{
    Q_OBJECT

public:
    explicit ChatPanel(QWidget *parent = nullptr);
    ~ChatPanel() override;

    void setGenerator(ChatGenerator generator);
    void setProject(const Project &project);
    // Non-empty: the corrected adapter on disk is not the last run's; shown above the answers and at the
    // head of each corrected answer.
    void setStaleNote(const QString &note);
    // A vision-language model's chat takes an image with the prompt: the image row shows only then.
    void setAcceptsImages(bool accepts);
    // The image sent with the next prompts (empty: none).
    void setImage(const QString &path);
    QString image() const { return m_image; }
    ValidationLabel *staleNoteLabel() const { return m_staleNote; }
    void ask(const QString &prompt);
    void stop();
    bool isBusy() const { return m_thread != nullptr; }

    QLineEdit *promptEdit() const { return m_prompt; }
    QPlainTextEdit *originalAnswer() const { return m_original; }
    QPlainTextEdit *correctedAnswer() const { return m_corrected; }

Q_SIGNALS:
    void finished();

private:
    struct Stream // text generated since the last drain
    {
        QString original;
        QString corrected;
    };
    void drainStream();
    static void append(QPlainTextEdit *target, const QString &piece);
    void onThreadFinished();
    void updateButtons();

    ChatGenerator m_generator;
    Project m_project;
    QLineEdit *m_prompt = nullptr;
    QPushButton *m_send = nullptr;
    QPushButton *m_stop = nullptr;
    QWidget *m_imageRow = nullptr;
    QLabel *m_imageThumbnail = nullptr;
    QLabel *m_imageName = nullptr;
    QPushButton *m_chooseImage = nullptr;
    QPushButton *m_clearImage = nullptr;
    QString m_image;
    QPlainTextEdit *m_original = nullptr;
    QPlainTextEdit *m_corrected = nullptr;
    ValidationLabel *m_staleNote = nullptr;
    QPointer<QThread> m_thread;
    std::shared_ptr<std::atomic<bool>> m_stopRequested;
    std::shared_ptr<Locked<Stream>> m_stream;
    QTimer m_drainTimer;
};

} // namespace emloc::ui
