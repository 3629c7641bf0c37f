#include "widgets/chat_panel.h"

#include "widgets/validation_label.h"

#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
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
    layout->addWidget(m_staleNote, 1, 0, 1, 2);
    layout->addWidget(new QLabel(tr("Original model"), this), 2, 0);
    layout->addWidget(new QLabel(tr("With the EMLoC adapter (the one Export writes)"), this), 2, 1);
    layout->addWidget(m_original, 3, 0);
    layout->addWidget(m_corrected, 3, 1);

    connect(m_send, &QPushButton::clicked, this, [this] { ask(m_prompt->text()); });
    connect(m_prompt, &QLineEdit::returnPressed, this, [this] { ask(m_prompt->text()); });
    connect(m_stop, &QPushButton::clicked, this, &ChatPanel::stop);
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
    // Both answers on one worker thread, one model at a time (memory: only one model is resident).
    m_thread = QThread::create([generator, project, prompt, stopRequested, stream] {
        for (const QString which : {QStringLiteral("original"), QStringLiteral("corrected")}) {
            auto deliver = [&stream, &which](const QString &piece) {
                stream->with([&](Stream &text) {
                    (which == QLatin1String("original") ? text.original : text.corrected) += piece;
                });
            };
            try {
                generator(project, which, prompt, [&](const QString &piece) {
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
