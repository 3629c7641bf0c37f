// Build-time tool: renders the application's SVG icon into the hicolor PNG sizes with Qt's own SVG
// support, so the PNGs in the menu match the window icon.
// Usage: emloc_render_icon ICON.svg OUT_DIR NAME SIZE...  (writes OUT_DIR/<size>x<size>/NAME.png)
#include <QDir>
#include <QGuiApplication>
#include <QImageReader>

#include <cstdio>

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    const QStringList args = QCoreApplication::arguments();
    if (args.size() < 5) {
        std::fprintf(stderr, "usage: emloc_render_icon ICON.svg OUT_DIR NAME SIZE...\n");
        return 2;
    }
    for (int i = 4; i < args.size(); ++i) {
        const int size = args.at(i).toInt();
        QImageReader reader(args.at(1));
        reader.setScaledSize(QSize(size, size));
        const QImage image = reader.read();
        if (image.isNull()) {
            std::fprintf(stderr, "emloc_render_icon: cannot render %s (%s); is libqt6svg6 installed?\n",
                         qPrintable(args.at(1)), qPrintable(reader.errorString()));
            return 1;
        }
        const QString dir = QStringLiteral("%1/%2x%2").arg(args.at(2)).arg(size);
        const QString out = dir + QStringLiteral("/") + args.at(3) + QStringLiteral(".png");
        if (!QDir().mkpath(dir) || !image.save(out)) {
            std::fprintf(stderr, "emloc_render_icon: cannot write %s\n", qPrintable(out));
            return 1;
        }
    }
    return 0;
}
