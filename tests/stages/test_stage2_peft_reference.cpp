// Our PEFT adapters loaded by Python peft onto the transformers model give our logits.
#include "test_support.h"

#include "emloc/io/model_files.h"
#include "emloc/io/safetensors.h"
#include "emloc/model/causal_lm.h"
#include "emloc/model/lora_adapter.h"
#include "emloc/util/torch_runtime.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using namespace emloc;

class TestStage2PeftReference : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_base;

private Q_SLOTS:
    void initTestCase()
    {
        emloc::core::configureThreads(0); // OMP_NUM_THREADS: ctest runs two suites at once
        QVERIFY(m_dir.isValid());
        m_base = m_dir.filePath("base");
        auto made = test::runPythonScript("stage2_peft_reference.py", {"make", m_base});
        QVERIFY2(made.exitCode == 0, made.err.constData());
    }

    void peftLoadsOurAdapter_data()
    {
        QTest::addColumn<bool>("rsLora");
        QTest::addColumn<QString>("targets");
        QTest::addColumn<int>("layer"); // -1: all layers
        QTest::addColumn<int>("expectedModules");
        QTest::newRow("all targets") << false << "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"
                                     << -1 << 21;
        QTest::newRow("rslora q,v") << true << "q_proj,v_proj" << -1 << 6;
        QTest::newRow("one layer (layer drop)") << false << "q_proj,down_proj" << 1 << 2;
    }

    void peftLoadsOurAdapter()
    {
        QFETCH(bool, rsLora);
        QFETCH(QString, targets);
        QFETCH(int, layer);
        QFETCH(int, expectedModules);

        auto files = core::openModel(m_base.toStdString());
        core::CausalLM model(files);
        core::LoraConfig config;
        config.rank = 4;
        config.alpha = 8;
        config.rsLora = rsLora;
        config.targets = core::parseLoraTargets(targets.toStdString());
        torch::manual_seed(8);
        auto lora =
            core::attachLora(model, config, layer < 0 ? std::vector<int64_t>{} : std::vector<int64_t>{layer});
        {
            torch::NoGradGuard noGrad;
            for (const auto &module : lora.modules)
                module.second->b().copy_(0.05 * torch::randn_like(module.second->b()));
        }
        lora.setTraining(false);
        const QString adapter =
            m_dir.filePath(QString("adapter_%1").arg(QTest::currentDataTag()).replace(' ', '_'));
        core::saveAdapter(core::extractAdapter(lora, m_base.toStdString()), adapter.toStdString());

        auto ids = torch::randint(3, 128, {2, 11}, torch::kInt64);
        auto mask = torch::ones({2, 11}, torch::kInt64);
        mask.index_put_({1, torch::indexing::Slice(8, torch::indexing::None)}, 0); // right padding
        torch::Tensor logits;
        {
            torch::NoGradGuard noGrad;
            logits = model.forward(ids, mask);
        }
        const QString casePath = adapter + "/case.safetensors";
        core::writeSafetensors(
            casePath.toStdString(),
            {{"input_ids", ids}, {"attention_mask", mask}, {"logits", logits.contiguous()}});
        auto checked =
            test::runPythonScript("stage2_peft_reference.py", {"check", m_base, adapter, casePath});
        QVERIFY2(checked.exitCode == 0, checked.err.constData());
        auto json = QJsonDocument::fromJson(checked.out.trimmed().split('\n').last()).object();
        const double diff = json["max_abs_diff"].toDouble(-1);
        const double effect = json["adapter_effect"].toDouble(-1);
        qInfo("%s: peft vs ours max |logit diff| %.3g (logits up to %.2f; the adapter moves them by %.3g)",
              QTest::currentDataTag(), diff, json["max_abs_logit"].toDouble(), effect);
        QCOMPARE(json["lora_modules"].toInt(), expectedModules);
        QVERIFY(diff >= 0 && diff < 1e-4);
        QVERIFY(effect > 1e-2);
    }
};

QTEST_GUILESS_MAIN(TestStage2PeftReference)
#include "test_stage2_peft_reference.moc"
