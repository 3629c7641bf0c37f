<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>QObject</name>
    <message>
        <source>The model has no tokenizer (tokenizer.json): add it to the folder, or training cannot read the data.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a model on the Model page to see how memory depends on the emulator size.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No memory preview: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a model and a training file to see the records as training sees them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No token statistics: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The catalog cannot be planned: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>InternViT, %1 layers, hidden size %2, %3 heads, %4-pixel patches</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>pixel-unshuffle x%1, MLP %2 → %3 → %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1-pixel tiles, %2 to %3 an image%4; %5 tokens a tile</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> plus a thumbnail</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>an image in the record (%1 x %2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (%2 x %3)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::AboutDialog</name>
    <message>
        <source>About %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not compiled in (CPU only)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1, GPU available</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1, no usable GPU found</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Version %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fine-tune language models that are too big for your GPU: LoRA is trained on a low-rank emulator of the model and then corrected for the original (EMLoC, NeurIPS 2025).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Qt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (built with %2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LibTorch</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CUDA</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>QCustomPlot</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Copy Versions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy the versions for a bug report.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no engine attached</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::BudgetPage</name>
    <message>
        <source>Budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Where to run, how much memory fine-tuning may use, and how to train. The emulator is sized so that training fits.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Total memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Free memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run &amp;on:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Measure the devices&apos; free memory again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Emulator size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fit a &amp;memory budget:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The planner picks the largest emulator whose fine-tuning peak fits this budget.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> GiB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep a fixed &amp;ratio of each layer:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The share of each compressed layer&apos;s parameters the emulator keeps (the paper uses 0.4).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training records run through the original model to measure which directions of each layer matter.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Calibration samples:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LoRA</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The rank r of each LoRA update; higher learns more and uses more memory.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The LoRA scale is alpha / rank; 16 with rank 8 is the usual choice.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The share of LoRA inputs dropped at random during training, against over-fitting.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>R&amp;ank:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A&amp;lpha:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Dropout:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Adapt the %1 projection of every decoder block.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Targets:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The linear layers that receive a LoRA update.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Optimizer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The peak AdamW learning rate; 4e-5 to 2e-4 works for most models.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sequences per forward pass; memory grows with it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Forward passes summed into one optimizer step; a larger effective batch without more memory.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The share of steps over which the learning rate rises from zero before its cosine decay.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> %</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>AdamW&apos;s decoupled weight decay on the LoRA weights.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Learning &amp;rate:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Batch size:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Gradient acc&amp;umulation:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Steps:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Warmup:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Weight dec&amp;ay:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sequences and reproducibility</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Longer records are truncated to this many tokens; memory grows with it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recompute activations in the backward pass</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Gradient checkpointing: much less activation memory for about a third more compute.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The same seed and settings give the same run.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Max &amp;length:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Validate every:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Checkpo&amp;inting:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S&amp;eed:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose at least one LoRA target on the Budget page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The project runs on %1, which this computer does not have. Choose a device above.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Each compressed layer keeps %1 % of its parameters; the memory this takes is measured during the run.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The budget (%1) is more than %2 has in all (%3). Lower the budget.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The budget (%1) is more than %2 has free now (%3). Close other programs first, or lower the budget.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The emulator is sized so that fine-tuning stays within %1 (%2 free on %3).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The emulator is sized so that fine-tuning stays within %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>= %n sequence(s) per step</source>
        <translation>
            <numerusform>= %n sequence per step</numerusform>
            <numerusform>= %n sequences per step</numerusform>
        </translation>
    </message>
    <message>
        <source>Memory against emulator size (planner)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predicted peak memory of each EMLoC stage for every compression ratio, from the model&apos;s shape and the settings below. The run measures the real peaks.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing fits the budget: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>At ratio %1 the largest stage needs about %2; inference of the original model needs %3.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No emulator fits %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The last run&apos;s calibration: at ratio %1 the emulator keeps %2 % of the activation energy.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A budget of %1 leaves no memory for any emulator. Enter a larger budget.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is less than any emulator of this model needs: the smallest takes %2. Enter at least %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refining the last layers on the original model would need about %1, over the budget: the run skips it and ships the corrected adapter.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refining the last layers on the original model then needs about %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What &amp;fits…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Which popular models this device (or any memory size) can run, fine-tune with LoRA, or fine-tune with EMLoC, before downloading any.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The number of optimizer steps to train; at its lowest, the number of epochs below decides.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>from epochs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Passes over the training data, when the steps are not given.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>E&amp;pochs:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>How many optimizer steps pass between two validation passes (when the Data page holds some training records out).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>at the end</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Advanced settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Every other setting of the run, written as in a run configuration file for &lt;tt&gt;emloc run&lt;/tt&gt; (see the README&apos;s configuration reference), for example &lt;tt&gt;{&quot;train&quot;: {&quot;schedule&quot;: &quot;linear&quot;}, &quot;evaluate&quot;: {&quot;metric&quot;: &quot;contains&quot;}, &quot;correct&quot;: {&quot;clamp&quot;: 2}}&lt;/tt&gt;. The engine checks it as &lt;tt&gt;emloc run&lt;/tt&gt; would; the fields above set the rest.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not valid JSON: %1 on line %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>it must be a JSON object: { ... }</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Advanced settings: %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Empty: every other setting keeps core&apos;s default.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Compress the &amp;vision tower too, at:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>For a vision-language model: the emulator also compresses the vision tower&apos;s linear layers, calibrated on your images, so fine-tuning holds a smaller tower. The projector stays dense. The paper&apos;s configuration uses 0.4.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The device that runs every stage; a GPU is much faster than the CPU. Ctrl-click to pick several GPUs: the job then runs one process per GPU.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>On each of the %1 GPUs: about %2 to build the emulator (its share of the calibration samples) and %3 to fine-tune (its share of each step).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 GPUs: the job runs one process on each, each with the whole emulator and its share of every step (data-parallel); stage 3 and the evaluation run on the first. The budget is each GPU&apos;s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl-click to pick several GPUs: the job then runs one process on each (data-parallel).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The emulator is sized so that fine-tuning stays within %1 on each of the %2 GPUs (%3 free on %4, the fullest).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A training step should take about %1 on the %2 GPUs together (%3 on one), plus their gradient exchange: scaled from this folder&apos;s last run.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A training step should take about %1, scaled from this folder&apos;s last run.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A training step takes at least %1 on the %2 GPUs together (%3 on one) at the device&apos;s matrix-product rate (%4 GFLOP/s); the first run measures the real time.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A training step takes at least %1 at the device&apos;s matrix-product rate (%2 GFLOP/s); the first run measures the real time.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::CatalogFitDialog</name>
    <message>
        <source>What fits</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Popular models against a memory size, planned from their shapes alone: nothing is downloaded. Batch, LoRA rank and refinement are this project&apos;s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> GiB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The device&apos;s memory, or any size: that of a card you consider.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Memory:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GPU (CUDA)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A GPU adds the CUDA context; the CPU computes in 32-bit values by default.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Device:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>as the device (bf16 on GPU, fp32 on CPU)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>bf16 / fp16 (2 bytes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>fp32 (4 bytes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Values:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tokens per training example: activations and logits grow with it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Sequence length:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Inference</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LoRA (whole model)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>EMLoC</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quality</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No planner.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not needed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ratio %1, %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>does not fit (%1 at the smallest ratio)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>In %1: %2 of %3 models run inference, %4 fine-tune with LoRA on the whole model, %5 with EMLoC. Green fits, red does not; the peak is the planner&apos;s, which a run measures. A model not listed: emloc plan --config its config.json.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::ChatPanel</name>
    <message>
        <source>Ask both models something from your task…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Ask</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Original model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>
[%1]</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>[From the corrected adapter of an earlier run]
</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>With the EMLoC adapter (the one Export writes)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Image…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image to ask about</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.webp);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No image: the prompt alone is asked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>With the image %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::DataPage</name>
    <message>
        <source>Data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Your training records. The first of them also calibrate the emulator, so it is compressed for exactly this task.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training records</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All files</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Training file:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the training data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A .jsonl file, one JSON record per line</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Records with &quot;messages&quot;, &quot;prompt&quot;/&quot;completion&quot;, &quot;instruction&quot;/&quot;output&quot; or &quot;text&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> %</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>First records</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Target</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a training file to see its first records.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the training data on the Data page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>about %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 records, %2, %3.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What training sees (the model&apos;s template and tokenizer)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>One record as the model sees it. Bold, coloured text is trained; grey text is context only (masked from the loss).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 records: %2 used, %3 skipped. %4 truncated at %5 tokens. %6 % of the tokens are masked (context only). Template: %7.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Skipped: %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Only %n record(s): fine-tuning needs more examples to learn anything.</source>
        <translation type="unfinished">
            <numerusform>Only %n record: fine-tuning needs more examples to learn anything.</numerusform>
            <numerusform>Only %n records: fine-tuning needs more examples to learn anything.</numerusform>
        </translation>
    </message>
    <message>
        <source>Held-out data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>none</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>These training records are never trained on; their loss, plotted while training, shows whether the model generalises.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Hold out for the validation loss:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the test data</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Optional: records in the training file&apos;s format, never trained on. After training, the Results page compares the models&apos; answers and loss on them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Test file for the evaluation:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The test records are %1, the training records %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 test records.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::DatasetInspector</name>
    <message>
        <source>chat (messages)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>prompt and completion</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>instruction and output</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>plain text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unknown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>chat (ShareGPT conversations)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::ExportPage</name>
    <message>
        <source>Export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write the corrected LoRA for the original model, ready for Transformers, PEFT, llama.cpp or Ollama.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Destination</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Output &amp;folder:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the output folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A folder for the adapter and the run&apos;s report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Created when it does not exist; files are written under a temporary name and renamed when complete.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Formats</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;PEFT LoRA adapter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>adapter_model.safetensors and adapter_config.json: loads with PEFT onto the original Hugging Face model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Merged model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The original model with the LoRA merged in, as safetensors: needs disk space for a full copy.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;GGUF LoRA adapter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>For llama.cpp, Ollama and LM Studio, next to the original model&apos;s GGUF file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>E&amp;xport</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write the chosen formats into the output folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose an output folder on the Export page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose at least one format on the Export page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is a file, not a folder. Choose a folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>You cannot write into %1. Choose a folder you own.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The folder will be created.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The folder cannot be created inside %1. Choose another place.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The folder exists and holds an earlier export: exporting replaces the files in %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The folder exists; the export is written to %1, beside what is already there.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Ollama model folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A Modelfile with the base model as GGUF (with a vision-language model&apos;s projector) and the adapter: in that folder, &quot;ollama create NAME -f Modelfile&quot; makes the model Ollama runs.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Vision projector (mmproj GGUF)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Vision-language models: the vision tower and projector for llama.cpp (llama-mtmd-cli, llama-server --mmproj), beside the language model&apos;s GGUF.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::Format</name>
    <message>
        <source>%1 h %2 min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::LengthHistogram</name>
    <message>
        <source>Tokens per record</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Records</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>max length %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::LossPlot</name>
    <message>
        <source>Step</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loss</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training (smoothed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Validation</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::MainWindow</name>
    <message>
        <source>Paused</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Running: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Version %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;New Project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start a project with the default settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Open Project…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open a saved project (*.emloc).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Save Project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save the model, data, budget and settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save Project &amp;As…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save the project under a new name.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Start Training</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System Default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Idle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The project could not be opened.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Opened %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The project was not saved.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open Project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>EMLoC Studio projects (*.%1);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save Project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>EMLoC Studio projects (*.%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training cannot start yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training is not available in this build of EMLoC Studio.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use a build that includes the EMLoC engine&apos;s training stages.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The export cannot start yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is still running.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop it and close EMLoC Studio? The job stops after its current step; what it has finished is kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Stop and Close</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Keep Running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopping: the window closes when the current step ends…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 no longer exists.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>It was moved or deleted; it is removed from the recent projects.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No Recent Projects</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Clear Menu</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The project has unsaved changes.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save them before going on?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Untitled project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Before starting: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export is not available in this build of EMLoC Studio.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Train first: there is no corrected adapter to export yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Wait until the running job ends.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2 free of %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Measuring devices…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 finished.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 was cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fix what the message names and start again. The log on the Run page shows what led up to it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>EMLoC Studio uses the new language the next time it starts.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export the corrected adapter of an earlier run?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 Run the three stages to the end first to export an adapter of the current settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Export Anyway</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The last run was stopped before it finished: the corrected adapter and the exports in %1 are from an earlier run and may not match the current settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Warning: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export Run &amp;Configuration…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write the run as a configuration file for emloc run, e.g. to train on a server without a screen.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The run configuration was not written.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Wrote %1: run it with  emloc run &quot;%1&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export Run Configuration</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run configurations (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The last run&apos;s results were not shown: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 GPUs: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::MemoryPlot</name>
    <message>
        <source>Elapsed time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory (GiB)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>In use</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Budget %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Peak %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rank %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::ModelPage</name>
    <message>
        <source>%1 B</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 M</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model to fine-tune. Its weights stay on disk: every stage reads them layer by layer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Base model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Location:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the base model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A Hugging Face model folder or a .gguf file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The folder with config.json and *.safetensors, or a single GGUF file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Supported: Llama-family decoders (Llama, Qwen2, SmolLM) as Hugging Face safetensors or GGUF (F32, F16, BF16, Q8_0, Q4_0, Q4_1, K-quants).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What the model&apos;s files say</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Format:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Architecture:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decoder layers:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hidden size:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Vocabulary:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Context length:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Parameters:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stored as:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Size on disk:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the model to fine-tune on the Model page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model&apos;s files are complete.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Hugging Face folder, %n safetensors file(s)</source>
        <translation>
            <numerusform>Hugging Face folder, %n safetensors file</numerusform>
            <numerusform>Hugging Face folder, %n safetensors files</numerusform>
        </translation>
    </message>
    <message>
        <source>GGUF file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Vision tower:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Projector:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image tiles:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1; parameters: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::PathField</name>
    <message>
        <source>Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>File…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a single-file model (GGUF).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a Hugging Face model folder (config.json + safetensors).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::Project</name>
    <message>
        <source>an object</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a whole number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>true or false</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>a list of texts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The field &quot;%1&quot; must be %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is not an EMLoC Studio project: its &quot;format&quot; field is not &quot;%1&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The project was written by a newer EMLoC Studio (format version %1; this one reads up to %2). Update EMLoC Studio to open it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The field &quot;budget.mode&quot; must be &quot;memory&quot; or &quot;ratio&quot;, not &quot;%1&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot write &quot;%1&quot;: %2. Choose a folder you can write to.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Writing &quot;%1&quot; failed: %2. Check that the disk is not full; the previous version of the file is unchanged.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot open &quot;%1&quot;: %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not valid JSON: %2 on line %3. Fix the file in a text editor or open another project.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; does not hold a JSON object, so it is not an EMLoC Studio project.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot read the project &quot;%1&quot;: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The field &quot;run&quot; (the run configuration) must be an object.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::ResultsPage</name>
    <message>
        <source>Calibration</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Emulator construction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fine-tuning</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Validation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LoRA correction</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Evaluation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Results</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>How the last run went: losses, memory and time, stage by stage.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No results yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start a run on the Run page. When it ends, its losses, peak memory and timings appear here.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save &amp;Metrics as CSV…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Every sample of the run (loss, learning rate, memory, throughput) as a CSV table.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training loss (first → last)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Best validation loss</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Peak memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mean tokens/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Duration</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Optimizer steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;%1 succeeded&lt;/b&gt; in %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;%1 was cancelled&lt;/b&gt; after %2; the numbers cover the part that ran.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;%1 failed&lt;/b&gt; after %2: %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 → %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 at step %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The metrics were not saved.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 Choose another folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save Metrics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CSV tables (*.csv)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Held-out evaluation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loss</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Perplexity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Try it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Original (no fine-tuning)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Emulator + LoRA</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Original + LoRA, uncorrected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 / %2 (%3 %)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Exact match</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Contains the reference</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopped by itself</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Answers that ended on the model&apos;s end token, not at the length limit.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Examples: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refinement of the last layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Original + LoRA, corrected and refined (EMLoC)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Original + LoRA, corrected (EMLoC)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Emulator (calibration and construction)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Planned peak</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Note</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The planner&apos;s prediction for the stage, the figure a memory budget is held to.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>to step %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;The last run in this folder&lt;/b&gt; finished on %1, at emulator ratio %2. Its stages took %3 in all.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>reused</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Made by an earlier run from the same inputs and settings; its time and peak are that run&apos;s.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>above the plan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The measured peak is above the planner&apos;s prediction, which a memory budget relies on.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::RunPage</name>
    <message>
        <source>Run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Build the emulator, fine-tune LoRA on it, and correct the LoRA for the original model: live.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Run all stages with the project&apos;s settings (F5).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hold the job after its current step; memory stays allocated.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Res&amp;ume</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Continue a paused job.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop the job after its current step; nothing half-written is left behind.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training loss</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tokens/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Time left</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Elapsed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Peak memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>1  Calibrate and build the emulator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>2  Fine-tune LoRA on the emulator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>3  Correct LoRA for the original model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loss</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The job&apos;s messages appear here.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelling: the job stops after its current step…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Idle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>warning: </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>error: </source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>(%n line(s) not shown: the job logged faster than they can be read)</source>
        <translation>
            <numerusform>(%n line not shown: the job logged faster than it can be read)</numerusform>
            <numerusform>(%n lines not shown: the job logged faster than they can be read)</numerusform>
        </translation>
    </message>
    <message>
        <source>Calibrating</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Building layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Correcting layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2 of %3 (%p%)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Skipped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Running: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 finished in %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 was cancelled after %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paused: the job holds after its current step. Resume continues it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: done (%2 of %2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 / %2 batches</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 batches</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 / %2 layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 / %2 modules</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 modules</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 / %2 steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 steps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Building the emulator: calibrating (stage 1 of 3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Building the emulator (stage 1 of 3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fine-tuning LoRA on the emulator (stage 2 of 3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Correcting LoRA for the original model (stage 3 of 3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Evaluating on held-out examples</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Exporting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Progress</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refining the last layers&apos; LoRA on the original model (stage 3 of 3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refining</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The plot shows the training of this folder&apos;s last run (finished on %1). Start runs the stages again, reusing those whose inputs and settings did not change.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A job of several processes cannot pause: the others would stop waiting for it. Cancel it instead; Start resumes from its last checkpoint.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tokens per second of the whole job, its %1 processes together.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The largest peak of the job&apos;s processes.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::RunSummary</name>
    <message>
        <source>Cannot write &quot;%1&quot;: %2.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>emloc::ui::TradeOffPlot</name>
    <message>
        <source>Compression ratio (share of each layer kept)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Peak memory (GiB)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stage 2: LoRA on the emulator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stage 1: build the emulator</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stage 3: correct the LoRA</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Inference of the original model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ratio %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Activation energy kept, after calibration (right axis)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Energy kept (%)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
