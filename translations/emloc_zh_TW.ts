<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_TW">
<context>
    <name>QObject</name>
    <message>
        <source>The model has no tokenizer (tokenizer.json): add it to the folder, or training cannot read the data.</source>
        <translation>這個模型沒有分詞器（tokenizer.json）：請把它加入資料夾，否則訓練無法讀取資料。</translation>
    </message>
    <message>
        <source>Choose a model on the Model page to see how memory depends on the emulator size.</source>
        <translation>請在「模型」頁選擇模型，以查看記憶體如何隨模擬器大小變化。</translation>
    </message>
    <message>
        <source>No memory preview: %1</source>
        <translation>無法預覽記憶體：%1</translation>
    </message>
    <message>
        <source>Choose a model and a training file to see the records as training sees them.</source>
        <translation>請選擇模型與訓練檔案，以查看訓練時看到的紀錄。</translation>
    </message>
    <message>
        <source>No token statistics: %1</source>
        <translation>無法統計 token：%1</translation>
    </message>
    <message>
        <source>The catalog cannot be planned: %1</source>
        <translation>無法規劃模型目錄：%1</translation>
    </message>
    <message>
        <source>InternViT, %1 layers, hidden size %2, %3 heads, %4-pixel patches</source>
        <translation>InternViT，%1 層，隱藏維度 %2，%3 個注意力頭，%4 像素圖塊</translation>
    </message>
    <message>
        <source>pixel-unshuffle x%1, MLP %2 → %3 → %3</source>
        <translation>像素重排 x%1，MLP %2 → %3 → %3</translation>
    </message>
    <message>
        <source>%1-pixel tiles, %2 to %3 an image%4; %5 tokens a tile</source>
        <translation>%1 像素切塊，每張圖 %2 至 %3 塊%4；每塊 %5 個 token</translation>
    </message>
    <message>
        <source> plus a thumbnail</source>
        <translation>，另加一張縮圖</translation>
    </message>
    <message>
        <source>an image in the record (%1 x %2)</source>
        <translation>記錄中的圖片（%1 x %2）</translation>
    </message>
    <message>
        <source>%1 (%2 x %3)</source>
        <translation>%1（%2 x %3）</translation>
    </message>
</context>
<context>
    <name>emloc::ui::AboutDialog</name>
    <message>
        <source>About %1</source>
        <translation>關於 %1</translation>
    </message>
    <message>
        <source>not compiled in (CPU only)</source>
        <translation>未編入（僅 CPU）</translation>
    </message>
    <message>
        <source>%1, GPU available</source>
        <translation>%1，GPU 可用</translation>
    </message>
    <message>
        <source>%1, no usable GPU found</source>
        <translation>%1，找不到可用的 GPU</translation>
    </message>
    <message>
        <source>Version %1</source>
        <translation>版本 %1</translation>
    </message>
    <message>
        <source>Fine-tune language models that are too big for your GPU: LoRA is trained on a low-rank emulator of the model and then corrected for the original (EMLoC, NeurIPS 2025).</source>
        <translation>微調大到放不進 GPU 的語言模型：先在模型的低秩模擬器上訓練 LoRA，再針對原始模型加以修正（EMLoC，NeurIPS 2025）。</translation>
    </message>
    <message>
        <source>Qt</source>
        <translation>Qt</translation>
    </message>
    <message>
        <source>%1 (built with %2)</source>
        <translation>%1（以 %2 建置）</translation>
    </message>
    <message>
        <source>LibTorch</source>
        <translation>LibTorch</translation>
    </message>
    <message>
        <source>CUDA</source>
        <translation>CUDA</translation>
    </message>
    <message>
        <source>QCustomPlot</source>
        <translation>QCustomPlot</translation>
    </message>
    <message>
        <source>&amp;Copy Versions</source>
        <translation>複製版本資訊(&amp;C)</translation>
    </message>
    <message>
        <source>Copy the versions for a bug report.</source>
        <translation>複製版本資訊，以便附在錯誤回報中。</translation>
    </message>
    <message>
        <source>no engine attached</source>
        <translation>未連接引擎</translation>
    </message>
</context>
<context>
    <name>emloc::ui::BudgetPage</name>
    <message>
        <source>Budget</source>
        <translation>預算</translation>
    </message>
    <message>
        <source>Where to run, how much memory fine-tuning may use, and how to train. The emulator is sized so that training fits.</source>
        <translation>在哪裡執行、微調可用多少記憶體，以及如何訓練。模擬器的大小會調整到讓訓練放得下。</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>裝置</translation>
    </message>
    <message>
        <source>Total memory</source>
        <translation>總記憶體</translation>
    </message>
    <message>
        <source>Free memory</source>
        <translation>可用記憶體</translation>
    </message>
    <message>
        <source>Run &amp;on:</source>
        <translation>執行裝置(&amp;O)：</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>重新整理(&amp;R)</translation>
    </message>
    <message>
        <source>Measure the devices&apos; free memory again.</source>
        <translation>重新測量各裝置的可用記憶體。</translation>
    </message>
    <message>
        <source>Emulator size</source>
        <translation>模擬器大小</translation>
    </message>
    <message>
        <source>Fit a &amp;memory budget:</source>
        <translation>符合記憶體預算(&amp;M)：</translation>
    </message>
    <message>
        <source>The planner picks the largest emulator whose fine-tuning peak fits this budget.</source>
        <translation>規劃器會選出微調峰值仍在此預算內的最大模擬器。</translation>
    </message>
    <message>
        <source> GiB</source>
        <translation> GiB</translation>
    </message>
    <message>
        <source>Keep a fixed &amp;ratio of each layer:</source>
        <translation>每層保留固定比例(&amp;R)：</translation>
    </message>
    <message>
        <source>The share of each compressed layer&apos;s parameters the emulator keeps (the paper uses 0.4).</source>
        <translation>模擬器在每個壓縮層保留的參數比例（論文使用 0.4）。</translation>
    </message>
    <message>
        <source>Training records run through the original model to measure which directions of each layer matter.</source>
        <translation>送入原始模型的訓練資料筆數，用來測量每一層中哪些方向重要。</translation>
    </message>
    <message>
        <source>&amp;Calibration samples:</source>
        <translation>校準樣本數(&amp;C)：</translation>
    </message>
    <message>
        <source>LoRA</source>
        <translation>LoRA</translation>
    </message>
    <message>
        <source>The rank r of each LoRA update; higher learns more and uses more memory.</source>
        <translation>每個 LoRA 更新的秩 r；越高學得越多，也用越多記憶體。</translation>
    </message>
    <message>
        <source>The LoRA scale is alpha / rank; 16 with rank 8 is the usual choice.</source>
        <translation>LoRA 的縮放為 alpha / 秩；秩 8 搭配 16 是常見選擇。</translation>
    </message>
    <message>
        <source>The share of LoRA inputs dropped at random during training, against over-fitting.</source>
        <translation>訓練時隨機丟棄的 LoRA 輸入比例，用來避免過擬合。</translation>
    </message>
    <message>
        <source>R&amp;ank:</source>
        <translation>秩(&amp;A)：</translation>
    </message>
    <message>
        <source>A&amp;lpha:</source>
        <translation>Alpha(&amp;L)：</translation>
    </message>
    <message>
        <source>&amp;Dropout:</source>
        <translation>Dropout(&amp;D)：</translation>
    </message>
    <message>
        <source>Adapt the %1 projection of every decoder block.</source>
        <translation>調整每個解碼器區塊的 %1 投影。</translation>
    </message>
    <message>
        <source>Targets:</source>
        <translation>目標層：</translation>
    </message>
    <message>
        <source>The linear layers that receive a LoRA update.</source>
        <translation>接受 LoRA 更新的線性層。</translation>
    </message>
    <message>
        <source>Optimizer</source>
        <translation>最佳化器</translation>
    </message>
    <message>
        <source>The peak AdamW learning rate; 4e-5 to 2e-4 works for most models.</source>
        <translation>AdamW 的最高學習率；多數模型適用 4e-5 到 2e-4。</translation>
    </message>
    <message>
        <source>Sequences per forward pass; memory grows with it.</source>
        <translation>每次前向傳遞的序列數；記憶體用量隨之增加。</translation>
    </message>
    <message>
        <source>Forward passes summed into one optimizer step; a larger effective batch without more memory.</source>
        <translation>累加成一次最佳化步驟的前向傳遞次數；不增加記憶體即可得到更大的有效批次。</translation>
    </message>
    <message>
        <source>The share of steps over which the learning rate rises from zero before its cosine decay.</source>
        <translation>學習率從零上升（之後再餘弦衰減）所占的步數比例。</translation>
    </message>
    <message>
        <source> %</source>
        <translation> %</translation>
    </message>
    <message>
        <source>AdamW&apos;s decoupled weight decay on the LoRA weights.</source>
        <translation>套用在 LoRA 權重上的 AdamW 解耦權重衰減。</translation>
    </message>
    <message>
        <source>Learning &amp;rate:</source>
        <translation>學習率(&amp;R)：</translation>
    </message>
    <message>
        <source>&amp;Batch size:</source>
        <translation>批次大小(&amp;B)：</translation>
    </message>
    <message>
        <source>Gradient acc&amp;umulation:</source>
        <translation>梯度累積(&amp;U)：</translation>
    </message>
    <message>
        <source>&amp;Steps:</source>
        <translation>步數(&amp;S)：</translation>
    </message>
    <message>
        <source>&amp;Warmup:</source>
        <translation>暖身(&amp;W)：</translation>
    </message>
    <message>
        <source>Weight dec&amp;ay:</source>
        <translation>權重衰減(&amp;A)：</translation>
    </message>
    <message>
        <source>Sequences and reproducibility</source>
        <translation>序列與可重現性</translation>
    </message>
    <message>
        <source>Longer records are truncated to this many tokens; memory grows with it.</source>
        <translation>較長的資料會截斷到這個詞元數；記憶體用量隨之增加。</translation>
    </message>
    <message>
        <source> tokens</source>
        <translation> 詞元</translation>
    </message>
    <message>
        <source> steps</source>
        <translation> 步</translation>
    </message>
    <message>
        <source>Recompute activations in the backward pass</source>
        <translation>在反向傳遞時重新計算激活值</translation>
    </message>
    <message>
        <source>Gradient checkpointing: much less activation memory for about a third more compute.</source>
        <translation>梯度檢查點：激活值記憶體大幅減少，計算量約增加三分之一。</translation>
    </message>
    <message>
        <source>The same seed and settings give the same run.</source>
        <translation>相同的種子與設定會得到相同的結果。</translation>
    </message>
    <message>
        <source>Max &amp;length:</source>
        <translation>最大長度(&amp;L)：</translation>
    </message>
    <message>
        <source>&amp;Validate every:</source>
        <translation>驗證間隔(&amp;V)：</translation>
    </message>
    <message>
        <source>Checkpo&amp;inting:</source>
        <translation>檢查點(&amp;I)：</translation>
    </message>
    <message>
        <source>S&amp;eed:</source>
        <translation>隨機種子(&amp;E)：</translation>
    </message>
    <message>
        <source>Choose at least one LoRA target on the Budget page.</source>
        <translation>請在「預算」頁至少選擇一個 LoRA 目標層。</translation>
    </message>
    <message>
        <source>The project runs on %1, which this computer does not have. Choose a device above.</source>
        <translation>專案指定在 %1 上執行，但這台電腦沒有此裝置。請在上方選擇裝置。</translation>
    </message>
    <message>
        <source>Each compressed layer keeps %1 % of its parameters; the memory this takes is measured during the run.</source>
        <translation>每個壓縮層保留 %1 % 的參數；所需記憶體會在執行時測量。</translation>
    </message>
    <message>
        <source>The budget (%1) is more than %2 has in all (%3). Lower the budget.</source>
        <translation>預算（%1）超過 %2 的總記憶體（%3）。請降低預算。</translation>
    </message>
    <message>
        <source>The budget (%1) is more than %2 has free now (%3). Close other programs first, or lower the budget.</source>
        <translation>預算（%1）超過 %2 目前的可用記憶體（%3）。請先關閉其他程式，或降低預算。</translation>
    </message>
    <message>
        <source>The emulator is sized so that fine-tuning stays within %1 (%2 free on %3).</source>
        <translation>模擬器的大小會讓微調維持在 %1 以內（%3 上可用 %2）。</translation>
    </message>
    <message>
        <source>The emulator is sized so that fine-tuning stays within %1.</source>
        <translation>模擬器的大小會讓微調維持在 %1 以內。</translation>
    </message>
    <message numerus="yes">
        <source>= %n sequence(s) per step</source>
        <translation>
            <numerusform>= 每步 %n 個序列</numerusform>
        </translation>
    </message>
    <message>
        <source>Memory against emulator size (planner)</source>
        <translation>記憶體與模擬器大小（規劃器）</translation>
    </message>
    <message>
        <source>Predicted peak memory of each EMLoC stage for every compression ratio, from the model&apos;s shape and the settings below. The run measures the real peaks.</source>
        <translation>依模型結構與下方設定，預估每個壓縮比下各 EMLoC 階段的峰值記憶體。實際峰值由執行時量測。</translation>
    </message>
    <message>
        <source>Nothing fits the budget: %1</source>
        <translation>沒有任何設定符合預算：%1</translation>
    </message>
    <message>
        <source>At ratio %1 the largest stage needs about %2; inference of the original model needs %3.</source>
        <translation>壓縮比 %1 時，最大的階段約需 %2；原始模型推論需 %3。</translation>
    </message>
    <message>
        <source>No emulator fits %1: %2</source>
        <translation>沒有模擬器能放進 %1：%2</translation>
    </message>
    <message>
        <source>The last run&apos;s calibration: at ratio %1 the emulator keeps %2 % of the activation energy.</source>
        <translation>上次執行的校準：壓縮比 %1 時，模擬器保留 %2 % 的激活能量。</translation>
    </message>
    <message>
        <source>A budget of %1 leaves no memory for any emulator. Enter a larger budget.</source>
        <translation>%1 的預算不足以容納任何模擬器。請輸入更大的預算。</translation>
    </message>
    <message>
        <source>%1 is less than any emulator of this model needs: the smallest takes %2. Enter at least %2.</source>
        <translation>%1 少於此模型任何模擬器所需的記憶體：最小的也需要 %2。請至少輸入 %2。</translation>
    </message>
    <message>
        <source>Refining the last layers on the original model would need about %1, over the budget: the run skips it and ships the corrected adapter.</source>
        <translation>在原始模型上精修最後幾層約需 %1，超出預算：執行時會略過這一步，交付修正後的轉接器。</translation>
    </message>
    <message>
        <source>Refining the last layers on the original model then needs about %1.</source>
        <translation>接著在原始模型上精修最後幾層約需 %1。</translation>
    </message>
    <message>
        <source>What &amp;fits…</source>
        <translation>放得下哪些(&amp;F)…</translation>
    </message>
    <message>
        <source>Which popular models this device (or any memory size) can run, fine-tune with LoRA, or fine-tune with EMLoC, before downloading any.</source>
        <translation>在下載任何模型之前，查看這台裝置（或任意記憶體大小）能推論、能以 LoRA 微調，或能以 EMLoC 微調哪些熱門模型。</translation>
    </message>
    <message>
        <source>The number of optimizer steps to train; at its lowest, the number of epochs below decides.</source>
        <translation>要訓練的最佳化步數；設為最小值時，由下方的訓練輪數決定。</translation>
    </message>
    <message>
        <source>from epochs</source>
        <translation>依輪數</translation>
    </message>
    <message>
        <source>Passes over the training data, when the steps are not given.</source>
        <translation>未指定步數時，走過訓練資料的次數。</translation>
    </message>
    <message>
        <source>E&amp;pochs:</source>
        <translation>訓練輪數(&amp;P)：</translation>
    </message>
    <message>
        <source>How many optimizer steps pass between two validation passes (when the Data page holds some training records out).</source>
        <translation>兩次驗證之間相隔的最佳化步數（在「資料」頁保留部分訓練紀錄時）。</translation>
    </message>
    <message>
        <source>at the end</source>
        <translation>僅在結束時</translation>
    </message>
    <message>
        <source>Advanced settings</source>
        <translation>進階設定</translation>
    </message>
    <message>
        <source>Every other setting of the run, written as in a run configuration file for &lt;tt&gt;emloc run&lt;/tt&gt; (see the README&apos;s configuration reference), for example &lt;tt&gt;{&quot;train&quot;: {&quot;schedule&quot;: &quot;linear&quot;}, &quot;evaluate&quot;: {&quot;metric&quot;: &quot;contains&quot;}, &quot;correct&quot;: {&quot;clamp&quot;: 2}}&lt;/tt&gt;. The engine checks it as &lt;tt&gt;emloc run&lt;/tt&gt; would; the fields above set the rest.</source>
        <translation>執行的其他所有設定，寫法與 &lt;tt&gt;emloc run&lt;/tt&gt; 的執行設定檔相同（見 README 的設定說明），例如 &lt;tt&gt;{&quot;train&quot;: {&quot;schedule&quot;: &quot;linear&quot;}, &quot;evaluate&quot;: {&quot;metric&quot;: &quot;contains&quot;}, &quot;correct&quot;: {&quot;clamp&quot;: 2}}&lt;/tt&gt;。引擎會像 &lt;tt&gt;emloc run&lt;/tt&gt; 一樣檢查它；其餘設定由上方欄位決定。</translation>
    </message>
    <message>
        <source>not valid JSON: %1 on line %2</source>
        <translation>不是有效的 JSON：第 %2 行 %1</translation>
    </message>
    <message>
        <source>it must be a JSON object: { ... }</source>
        <translation>必須是 JSON 物件：{ ... }</translation>
    </message>
    <message>
        <source>Advanced settings: %1.</source>
        <translation>進階設定：%1。</translation>
    </message>
    <message>
        <source>Empty: every other setting keeps core&apos;s default.</source>
        <translation>留空：其他設定皆使用引擎的預設值。</translation>
    </message>
    <message>
        <source>Compress the &amp;vision tower too, at:</source>
        <translation>一併壓縮視覺編碼器(&amp;V)，比例：</translation>
    </message>
    <message>
        <source>For a vision-language model: the emulator also compresses the vision tower&apos;s linear layers, calibrated on your images, so fine-tuning holds a smaller tower. The projector stays dense. The paper&apos;s configuration uses 0.4.</source>
        <translation>適用於視覺語言模型：模擬器也以您的圖片校準並壓縮視覺編碼器的線性層，使微調時載入較小的編碼器。投影器維持不壓縮。論文的設定使用 0.4。</translation>
    </message>
    <message>
        <source>The device that runs every stage; a GPU is much faster than the CPU. Ctrl-click to pick several GPUs: the job then runs one process per GPU.</source>
        <translation>執行每個階段的裝置；GPU 比 CPU 快得多。按住 Ctrl 點選可選擇多張 GPU：工作會在每張 GPU 上各執行一個行程。</translation>
    </message>
    <message>
        <source>On each of the %1 GPUs: about %2 to build the emulator (its share of the calibration samples) and %3 to fine-tune (its share of each step).</source>
        <translation>每張 GPU（共 %1 張）：建構模擬器約需 %2（分到的校準樣本），微調約需 %3（分到的每一步）。</translation>
    </message>
    <message>
        <source>%1 GPUs: the job runs one process on each, each with the whole emulator and its share of every step (data-parallel); stage 3 and the evaluation run on the first. The budget is each GPU&apos;s.</source>
        <translation>%1 張 GPU：工作在每張上各執行一個行程，各自持有完整模擬器並分擔每一步（資料平行）；第 3 階段與評估在第一張上執行。預算指每張 GPU 的記憶體。</translation>
    </message>
    <message>
        <source>Ctrl-click to pick several GPUs: the job then runs one process on each (data-parallel).</source>
        <translation>按住 Ctrl 點選可選擇多張 GPU：工作會在每張上各執行一個行程（資料平行）。</translation>
    </message>
    <message>
        <source>The emulator is sized so that fine-tuning stays within %1 on each of the %2 GPUs (%3 free on %4, the fullest).</source>
        <translation>模擬器的大小使微調在 %2 張 GPU 的每一張上都不超過 %1（最滿的 %4 尚有 %3 可用）。</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>A training step should take about %1 on the %2 GPUs together (%3 on one), plus their gradient exchange: scaled from this folder&apos;s last run.</source>
        <translation>一個訓練步驟在 %2 張 GPU 上合計約需 %1（單張約 %3），另加梯度交換時間：依此資料夾上次執行的實測值推算。</translation>
    </message>
    <message>
        <source>A training step should take about %1, scaled from this folder&apos;s last run.</source>
        <translation>一個訓練步驟約需 %1，依此資料夾上次執行的實測值推算。</translation>
    </message>
    <message>
        <source>A training step takes at least %1 on the %2 GPUs together (%3 on one) at the device&apos;s matrix-product rate (%4 GFLOP/s); the first run measures the real time.</source>
        <translation>依裝置的矩陣乘法速率（%4 GFLOP/s），一個訓練步驟在 %2 張 GPU 上合計至少需 %1（單張 %3）；第一次執行會量測實際時間。</translation>
    </message>
    <message>
        <source>A training step takes at least %1 at the device&apos;s matrix-product rate (%2 GFLOP/s); the first run measures the real time.</source>
        <translation>依裝置的矩陣乘法速率（%2 GFLOP/s），一個訓練步驟至少需 %1；第一次執行會量測實際時間。</translation>
    </message>
</context>
<context>
    <name>emloc::ui::CatalogFitDialog</name>
    <message>
        <source>What fits</source>
        <translation>放得下哪些模型</translation>
    </message>
    <message>
        <source>Popular models against a memory size, planned from their shapes alone: nothing is downloaded. Batch, LoRA rank and refinement are this project&apos;s.</source>
        <translation>依記憶體大小列出熱門模型，只根據模型形狀規劃：不會下載任何檔案。批次、LoRA 秩與精修沿用此專案的設定。</translation>
    </message>
    <message>
        <source> GiB</source>
        <translation> GiB</translation>
    </message>
    <message>
        <source>The device&apos;s memory, or any size: that of a card you consider.</source>
        <translation>裝置的記憶體，或任意大小：例如你考慮購買的顯示卡。</translation>
    </message>
    <message>
        <source>&amp;Memory:</source>
        <translation>記憶體(&amp;M)：</translation>
    </message>
    <message>
        <source>GPU (CUDA)</source>
        <translation>GPU（CUDA）</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>A GPU adds the CUDA context; the CPU computes in 32-bit values by default.</source>
        <translation>GPU 需額外的 CUDA context；CPU 預設以 32 位元數值計算。</translation>
    </message>
    <message>
        <source>&amp;Device:</source>
        <translation>裝置(&amp;D)：</translation>
    </message>
    <message>
        <source>as the device (bf16 on GPU, fp32 on CPU)</source>
        <translation>依裝置（GPU 用 bf16，CPU 用 fp32）</translation>
    </message>
    <message>
        <source>bf16 / fp16 (2 bytes)</source>
        <translation>bf16 / fp16（2 位元組）</translation>
    </message>
    <message>
        <source>fp32 (4 bytes)</source>
        <translation>fp32（4 位元組）</translation>
    </message>
    <message>
        <source>&amp;Values:</source>
        <translation>數值(&amp;V)：</translation>
    </message>
    <message>
        <source> tokens</source>
        <translation> 個詞元</translation>
    </message>
    <message>
        <source>Tokens per training example: activations and logits grow with it.</source>
        <translation>每筆訓練樣本的詞元數：激活值與 logits 隨之增加。</translation>
    </message>
    <message>
        <source>&amp;Sequence length:</source>
        <translation>序列長度(&amp;S)：</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>參數量</translation>
    </message>
    <message>
        <source>Inference</source>
        <translation>推論</translation>
    </message>
    <message>
        <source>LoRA (whole model)</source>
        <translation>LoRA（整個模型）</translation>
    </message>
    <message>
        <source>EMLoC</source>
        <translation>EMLoC</translation>
    </message>
    <message>
        <source>Quality</source>
        <translation>品質</translation>
    </message>
    <message>
        <source>No planner.</source>
        <translation>沒有規劃器。</translation>
    </message>
    <message>
        <source>not needed</source>
        <translation>不需要</translation>
    </message>
    <message>
        <source>ratio %1, %2</source>
        <translation>比例 %1，%2</translation>
    </message>
    <message>
        <source>does not fit (%1 at the smallest ratio)</source>
        <translation>放不下（最小比例時需 %1）</translation>
    </message>
    <message>
        <source>In %1: %2 of %3 models run inference, %4 fine-tune with LoRA on the whole model, %5 with EMLoC. Green fits, red does not; the peak is the planner&apos;s, which a run measures. A model not listed: emloc plan --config its config.json.</source>
        <translation>在 %1 內：%3 個模型中有 %2 個能推論，%4 個能以 LoRA 微調整個模型，%5 個能以 EMLoC 微調。綠色代表放得下，紅色代表放不下；峰值是規劃器的預測，實際執行時會量測。未列出的模型：emloc plan --config 其 config.json。</translation>
    </message>
</context>
<context>
    <name>emloc::ui::ChatPanel</name>
    <message>
        <source>Ask both models something from your task…</source>
        <translation>用你的任務問兩個模型一個問題…</translation>
    </message>
    <message>
        <source>&amp;Ask</source>
        <translation>提問(&amp;A)</translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <source>Original model</source>
        <translation>原始模型</translation>
    </message>
    <message>
        <source>
[%1]</source>
        <translation>
[%1]</translation>
    </message>
    <message>
        <source>[From the corrected adapter of an earlier run]
</source>
        <translation>[來自先前一次執行的修正後轉接器]
</translation>
    </message>
    <message>
        <source>With the EMLoC adapter (the one Export writes)</source>
        <translation>套用 EMLoC 轉接器（即匯出的那一個）</translation>
    </message>
    <message>
        <source>&amp;Image…</source>
        <translation>圖片(&amp;I)…</translation>
    </message>
    <message>
        <source>No image</source>
        <translation>不附圖片</translation>
    </message>
    <message>
        <source>Image to ask about</source>
        <translation>要詢問的圖片</translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.webp);;All files (*)</source>
        <translation>圖片 (*.png *.jpg *.jpeg *.webp);;所有檔案 (*)</translation>
    </message>
    <message>
        <source>No image: the prompt alone is asked.</source>
        <translation>未附圖片：只詢問提示文字。</translation>
    </message>
    <message>
        <source>With the image %1</source>
        <translation>附上圖片 %1</translation>
    </message>
</context>
<context>
    <name>emloc::ui::DataPage</name>
    <message>
        <source>Data</source>
        <translation>資料</translation>
    </message>
    <message>
        <source>Your training records. The first of them also calibrate the emulator, so it is compressed for exactly this task.</source>
        <translation>您的訓練資料。開頭的幾筆也用來校準模擬器，讓壓縮正好針對這項任務。</translation>
    </message>
    <message>
        <source>Training records</source>
        <translation>訓練資料</translation>
    </message>
    <message>
        <source>All files</source>
        <translation>所有檔案</translation>
    </message>
    <message>
        <source>Training data</source>
        <translation>訓練資料</translation>
    </message>
    <message>
        <source>&amp;Training file:</source>
        <translation>訓練檔案(&amp;T)：</translation>
    </message>
    <message>
        <source>Choose the training data</source>
        <translation>選擇訓練資料</translation>
    </message>
    <message>
        <source>A .jsonl file, one JSON record per line</source>
        <translation>.jsonl 檔案，每行一筆 JSON 資料</translation>
    </message>
    <message>
        <source>Records with &quot;messages&quot;, &quot;prompt&quot;/&quot;completion&quot;, &quot;instruction&quot;/&quot;output&quot; or &quot;text&quot;.</source>
        <translation>含有 &quot;messages&quot;、&quot;prompt&quot;/&quot;completion&quot;、&quot;instruction&quot;/&quot;output&quot; 或 &quot;text&quot; 的資料。</translation>
    </message>
    <message>
        <source> %</source>
        <translation> %</translation>
    </message>
    <message>
        <source>First records</source>
        <translation>前幾筆資料</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>輸入</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>目標</translation>
    </message>
    <message>
        <source>Choose a training file to see its first records.</source>
        <translation>選擇訓練檔案後，這裡會顯示前幾筆資料。</translation>
    </message>
    <message>
        <source>Choose the training data on the Data page.</source>
        <translation>請在「資料」頁選擇訓練資料。</translation>
    </message>
    <message>
        <source>about %1</source>
        <translation>約 %1</translation>
    </message>
    <message>
        <source>%1 records, %2, %3.</source>
        <translation>%1 筆資料，%2，%3。</translation>
    </message>
    <message>
        <source>What training sees (the model&apos;s template and tokenizer)</source>
        <translation>訓練所見（模型的範本與分詞器）</translation>
    </message>
    <message>
        <source>One record as the model sees it. Bold, coloured text is trained; grey text is context only (masked from the loss).</source>
        <translation>模型眼中的一筆紀錄。粗體彩色文字會被訓練；灰色文字僅作為上下文（不計入損失）。</translation>
    </message>
    <message>
        <source>%1 records: %2 used, %3 skipped. %4 truncated at %5 tokens. %6 % of the tokens are masked (context only). Template: %7.</source>
        <translation>%1 筆紀錄：使用 %2 筆，略過 %3 筆。%4 筆在 %5 個詞元處截斷。%6 % 的詞元被遮罩（僅作上下文）。範本：%7。</translation>
    </message>
    <message>
        <source>Skipped: %1.</source>
        <translation>已略過：%1。</translation>
    </message>
    <message numerus="yes">
        <source>Only %n record(s): fine-tuning needs more examples to learn anything.</source>
        <translation>
            <numerusform>只有 %n 筆資料：微調需要更多範例才能學到東西。</numerusform>
        </translation>
    </message>
    <message>
        <source>Held-out data</source>
        <translation>保留資料</translation>
    </message>
    <message>
        <source>none</source>
        <translation>無</translation>
    </message>
    <message>
        <source>These training records are never trained on; their loss, plotted while training, shows whether the model generalises.</source>
        <translation>這些訓練紀錄不會用於訓練；訓練時繪出的損失可看出模型是否能泛化。</translation>
    </message>
    <message>
        <source>&amp;Hold out for the validation loss:</source>
        <translation>保留作為驗證損失(&amp;H)：</translation>
    </message>
    <message>
        <source>Choose the test data</source>
        <translation>選擇測試資料</translation>
    </message>
    <message>
        <source>Optional: records in the training file&apos;s format, never trained on. After training, the Results page compares the models&apos; answers and loss on them.</source>
        <translation>選填：與訓練檔案格式相同、不用於訓練的紀錄。訓練後，「結果」頁會比較各模型在這些紀錄上的回答與損失。</translation>
    </message>
    <message>
        <source>&amp;Test file for the evaluation:</source>
        <translation>評估用測試檔案(&amp;T)：</translation>
    </message>
    <message>
        <source>The test records are %1, the training records %2.</source>
        <translation>測試紀錄是 %1，訓練紀錄是 %2。</translation>
    </message>
    <message>
        <source>%1 test records.</source>
        <translation>%1 筆測試紀錄。</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>圖片</translation>
    </message>
</context>
<context>
    <name>emloc::ui::DatasetInspector</name>
    <message>
        <source>chat (messages)</source>
        <translation>對話（messages）</translation>
    </message>
    <message>
        <source>prompt and completion</source>
        <translation>提示與補全</translation>
    </message>
    <message>
        <source>instruction and output</source>
        <translation>指令與輸出</translation>
    </message>
    <message>
        <source>plain text</source>
        <translation>純文字</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>chat (ShareGPT conversations)</source>
        <translation>對話（ShareGPT conversations）</translation>
    </message>
</context>
<context>
    <name>emloc::ui::ExportPage</name>
    <message>
        <source>Export</source>
        <translation>匯出</translation>
    </message>
    <message>
        <source>Write the corrected LoRA for the original model, ready for Transformers, PEFT, llama.cpp or Ollama.</source>
        <translation>寫出針對原始模型修正後的 LoRA，可直接用於 Transformers、PEFT、llama.cpp 或 Ollama。</translation>
    </message>
    <message>
        <source>Destination</source>
        <translation>目的地</translation>
    </message>
    <message>
        <source>Output &amp;folder:</source>
        <translation>輸出資料夾(&amp;F)：</translation>
    </message>
    <message>
        <source>Choose the output folder</source>
        <translation>選擇輸出資料夾</translation>
    </message>
    <message>
        <source>A folder for the adapter and the run&apos;s report</source>
        <translation>存放轉接器與執行報告的資料夾</translation>
    </message>
    <message>
        <source>Created when it does not exist; files are written under a temporary name and renamed when complete.</source>
        <translation>不存在時會自動建立；檔案先以暫存名稱寫入，完成後再改名。</translation>
    </message>
    <message>
        <source>Formats</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>&amp;PEFT LoRA adapter</source>
        <translation>PEFT LoRA 轉接器(&amp;P)</translation>
    </message>
    <message>
        <source>adapter_model.safetensors and adapter_config.json: loads with PEFT onto the original Hugging Face model.</source>
        <translation>adapter_model.safetensors 與 adapter_config.json：可用 PEFT 載入到原始的 Hugging Face 模型上。</translation>
    </message>
    <message>
        <source>&amp;Merged model</source>
        <translation>合併後的模型(&amp;M)</translation>
    </message>
    <message>
        <source>The original model with the LoRA merged in, as safetensors: needs disk space for a full copy.</source>
        <translation>將 LoRA 合併進原始模型，存成 safetensors：需要足以容納完整副本的磁碟空間。</translation>
    </message>
    <message>
        <source>&amp;GGUF LoRA adapter</source>
        <translation>GGUF LoRA 轉接器(&amp;G)</translation>
    </message>
    <message>
        <source>For llama.cpp, Ollama and LM Studio, next to the original model&apos;s GGUF file.</source>
        <translation>供 llama.cpp、Ollama 與 LM Studio 使用，搭配原始模型的 GGUF 檔案。</translation>
    </message>
    <message>
        <source>E&amp;xport</source>
        <translation>匯出(&amp;X)</translation>
    </message>
    <message>
        <source>Write the chosen formats into the output folder.</source>
        <translation>將選擇的格式寫入輸出資料夾。</translation>
    </message>
    <message>
        <source>Choose an output folder on the Export page.</source>
        <translation>請在「匯出」頁選擇輸出資料夾。</translation>
    </message>
    <message>
        <source>Choose at least one format on the Export page.</source>
        <translation>請在「匯出」頁至少選擇一種格式。</translation>
    </message>
    <message>
        <source>%1 is a file, not a folder. Choose a folder.</source>
        <translation>%1 是檔案，不是資料夾。請選擇資料夾。</translation>
    </message>
    <message>
        <source>You cannot write into %1. Choose a folder you own.</source>
        <translation>您無法寫入 %1。請選擇您擁有的資料夾。</translation>
    </message>
    <message>
        <source>The folder will be created.</source>
        <translation>將會建立此資料夾。</translation>
    </message>
    <message>
        <source>The folder cannot be created inside %1. Choose another place.</source>
        <translation>無法在 %1 中建立資料夾。請選擇其他位置。</translation>
    </message>
    <message>
        <source>The folder exists and holds an earlier export: exporting replaces the files in %1.</source>
        <translation>資料夾已存在，且含有先前的匯出：匯出會取代 %1 中的檔案。</translation>
    </message>
    <message>
        <source>The folder exists; the export is written to %1, beside what is already there.</source>
        <translation>資料夾已存在；匯出會寫入 %1，與既有內容並存。</translation>
    </message>
    <message>
        <source>&amp;Ollama model folder</source>
        <translation>&amp;Ollama 模型資料夾</translation>
    </message>
    <message>
        <source>A Modelfile with the base model as GGUF (with a vision-language model&apos;s projector) and the adapter: in that folder, &quot;ollama create NAME -f Modelfile&quot; makes the model Ollama runs.</source>
        <translation>含有 GGUF 格式基礎模型（視覺語言模型另含其投影器）與轉接器的 Modelfile：在該資料夾執行 &quot;ollama create NAME -f Modelfile&quot; 即建立 Ollama 可執行的模型。</translation>
    </message>
    <message>
        <source>&amp;Vision projector (mmproj GGUF)</source>
        <translation>&amp;視覺投影器（mmproj GGUF）</translation>
    </message>
    <message>
        <source>Vision-language models: the vision tower and projector for llama.cpp (llama-mtmd-cli, llama-server --mmproj), beside the language model&apos;s GGUF.</source>
        <translation>視覺語言模型：供 llama.cpp（llama-mtmd-cli、llama-server --mmproj）使用的視覺塔與投影器，搭配語言模型的 GGUF。</translation>
    </message>
</context>
<context>
    <name>emloc::ui::Format</name>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 小時 %2 分</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 分 %2 秒</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
</context>
<context>
    <name>emloc::ui::LengthHistogram</name>
    <message>
        <source>Tokens per record</source>
        <translation>每筆紀錄的詞元數</translation>
    </message>
    <message>
        <source>Records</source>
        <translation>紀錄數</translation>
    </message>
    <message>
        <source>max length %1</source>
        <translation>最大長度 %1</translation>
    </message>
</context>
<context>
    <name>emloc::ui::LossPlot</name>
    <message>
        <source>Step</source>
        <translation>步數</translation>
    </message>
    <message>
        <source>Loss</source>
        <translation>損失</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>訓練</translation>
    </message>
    <message>
        <source>Training (smoothed)</source>
        <translation>訓練（平滑）</translation>
    </message>
    <message>
        <source>Validation</source>
        <translation>驗證</translation>
    </message>
</context>
<context>
    <name>emloc::ui::MainWindow</name>
    <message>
        <source>Paused</source>
        <translation>已暫停</translation>
    </message>
    <message>
        <source>Running: %1</source>
        <translation>執行中：%1</translation>
    </message>
    <message>
        <source>Version %1</source>
        <translation>版本 %1</translation>
    </message>
    <message>
        <source>Pages</source>
        <translation>頁面</translation>
    </message>
    <message>
        <source>&amp;New Project</source>
        <translation>新增專案(&amp;N)</translation>
    </message>
    <message>
        <source>Start a project with the default settings.</source>
        <translation>以預設設定開始新專案。</translation>
    </message>
    <message>
        <source>&amp;Open Project…</source>
        <translation>開啟專案(&amp;O)…</translation>
    </message>
    <message>
        <source>Open a saved project (*.emloc).</source>
        <translation>開啟已儲存的專案（*.emloc）。</translation>
    </message>
    <message>
        <source>&amp;Save Project</source>
        <translation>儲存專案(&amp;S)</translation>
    </message>
    <message>
        <source>Save the model, data, budget and settings.</source>
        <translation>儲存模型、資料、預算與設定。</translation>
    </message>
    <message>
        <source>Save Project &amp;As…</source>
        <translation>另存專案(&amp;A)…</translation>
    </message>
    <message>
        <source>Save the project under a new name.</source>
        <translation>以新名稱儲存專案。</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>結束(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Start Training</source>
        <translation>開始訓練(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>暫停(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation>繼續(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>取消(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;About %1</source>
        <translation>關於 %1(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>檔案(&amp;F)</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>最近的專案(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>執行(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>檢視(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>語言(&amp;L)</translation>
    </message>
    <message>
        <source>System Default</source>
        <translation>系統預設</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>說明(&amp;H)</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>關於 &amp;Qt</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>閒置</translation>
    </message>
    <message>
        <source>The project could not be opened.</source>
        <translation>無法開啟專案。</translation>
    </message>
    <message>
        <source>Opened %1</source>
        <translation>已開啟 %1</translation>
    </message>
    <message>
        <source>The project was not saved.</source>
        <translation>專案未儲存。</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已儲存 %1</translation>
    </message>
    <message>
        <source>Open Project</source>
        <translation>開啟專案</translation>
    </message>
    <message>
        <source>EMLoC Studio projects (*.%1);;All files (*)</source>
        <translation>EMLoC Studio 專案 (*.%1);;所有檔案 (*)</translation>
    </message>
    <message>
        <source>Save Project</source>
        <translation>儲存專案</translation>
    </message>
    <message>
        <source>project</source>
        <translation>專案</translation>
    </message>
    <message>
        <source>EMLoC Studio projects (*.%1)</source>
        <translation>EMLoC Studio 專案 (*.%1)</translation>
    </message>
    <message>
        <source>Training cannot start yet.</source>
        <translation>還不能開始訓練。</translation>
    </message>
    <message>
        <source>Training is not available in this build of EMLoC Studio.</source>
        <translation>此版本的 EMLoC Studio 不提供訓練功能。</translation>
    </message>
    <message>
        <source>Use a build that includes the EMLoC engine&apos;s training stages.</source>
        <translation>請使用包含 EMLoC 引擎訓練階段的版本。</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>訓練</translation>
    </message>
    <message>
        <source>The export cannot start yet.</source>
        <translation>還不能開始匯出。</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>匯出</translation>
    </message>
    <message>
        <source>%1 is still running.</source>
        <translation>%1 仍在執行中。</translation>
    </message>
    <message>
        <source>Stop it and close EMLoC Studio? The job stops after its current step; what it has finished is kept.</source>
        <translation>要停止它並關閉 EMLoC Studio 嗎？工作會在目前這一步結束後停止；已完成的部分會保留。</translation>
    </message>
    <message>
        <source>&amp;Stop and Close</source>
        <translation>停止並關閉(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Keep Running</source>
        <translation>繼續執行(&amp;K)</translation>
    </message>
    <message>
        <source>Stopping: the window closes when the current step ends…</source>
        <translation>正在停止：目前這一步結束後視窗就會關閉…</translation>
    </message>
    <message>
        <source>%1 no longer exists.</source>
        <translation>%1 已不存在。</translation>
    </message>
    <message>
        <source>It was moved or deleted; it is removed from the recent projects.</source>
        <translation>它已被移動或刪除；已從最近的專案中移除。</translation>
    </message>
    <message>
        <source>No Recent Projects</source>
        <translation>沒有最近的專案</translation>
    </message>
    <message>
        <source>&amp;Clear Menu</source>
        <translation>清除清單(&amp;C)</translation>
    </message>
    <message>
        <source>The project has unsaved changes.</source>
        <translation>專案有尚未儲存的變更。</translation>
    </message>
    <message>
        <source>Save them before going on?</source>
        <translation>要先儲存再繼續嗎？</translation>
    </message>
    <message>
        <source>Untitled project</source>
        <translation>未命名專案</translation>
    </message>
    <message>
        <source>Before starting: %1</source>
        <translation>開始之前：%1</translation>
    </message>
    <message>
        <source>Export is not available in this build of EMLoC Studio.</source>
        <translation>此版本的 EMLoC Studio 不提供匯出功能。</translation>
    </message>
    <message>
        <source>Train first: there is no corrected adapter to export yet.</source>
        <translation>請先訓練：目前還沒有可匯出的修正後轉接器。</translation>
    </message>
    <message>
        <source>Wait until the running job ends.</source>
        <translation>請等待執行中的工作結束。</translation>
    </message>
    <message>
        <source>%1: %2 free of %3</source>
        <translation>%1：可用 %2，共 %3</translation>
    </message>
    <message>
        <source>Measuring devices…</source>
        <translation>正在測量裝置…</translation>
    </message>
    <message>
        <source>%1 finished.</source>
        <translation>%1 已完成。</translation>
    </message>
    <message>
        <source>%1 was cancelled.</source>
        <translation>%1 已取消。</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失敗</translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation>%1 失敗：%2</translation>
    </message>
    <message>
        <source>Fix what the message names and start again. The log on the Run page shows what led up to it.</source>
        <translation>請修正訊息中指出的問題後重新開始。「執行」頁的記錄會顯示事情的經過。</translation>
    </message>
    <message>
        <source>EMLoC Studio uses the new language the next time it starts.</source>
        <translation>EMLoC Studio 下次啟動時會使用新的語言。</translation>
    </message>
    <message>
        <source>Export the corrected adapter of an earlier run?</source>
        <translation>要匯出先前一次執行的修正後轉接器嗎？</translation>
    </message>
    <message>
        <source>%1 Run the three stages to the end first to export an adapter of the current settings.</source>
        <translation>%1 若要匯出符合目前設定的轉接器，請先將三個階段完整執行完畢。</translation>
    </message>
    <message>
        <source>&amp;Export Anyway</source>
        <translation>仍要匯出(&amp;E)</translation>
    </message>
    <message>
        <source>The last run was stopped before it finished: the corrected adapter and the exports in %1 are from an earlier run and may not match the current settings.</source>
        <translation>上次執行在完成前就已停止：%1 中的修正後轉接器與匯出檔來自先前的執行，可能與目前的設定不符。</translation>
    </message>
    <message>
        <source>Warning: %1</source>
        <translation>警告：%1</translation>
    </message>
    <message>
        <source>Export Run &amp;Configuration…</source>
        <translation>匯出執行設定(&amp;C)…</translation>
    </message>
    <message>
        <source>Write the run as a configuration file for emloc run, e.g. to train on a server without a screen.</source>
        <translation>將這次執行寫成 emloc run 的設定檔，例如在沒有螢幕的伺服器上訓練。</translation>
    </message>
    <message>
        <source>The run configuration was not written.</source>
        <translation>執行設定未寫入。</translation>
    </message>
    <message>
        <source>Wrote %1: run it with  emloc run &quot;%1&quot;</source>
        <translation>已寫入 %1：以  emloc run &quot;%1&quot;  執行</translation>
    </message>
    <message>
        <source>run</source>
        <translation>執行</translation>
    </message>
    <message>
        <source>Export Run Configuration</source>
        <translation>匯出執行設定</translation>
    </message>
    <message>
        <source>Run configurations (*.json)</source>
        <translation>執行設定 (*.json)</translation>
    </message>
    <message>
        <source>The last run&apos;s results were not shown: %1</source>
        <translation>未顯示上次執行的結果：%1</translation>
    </message>
    <message>
        <source>%1 GPUs: %2</source>
        <translation>%1 張 GPU：%2</translation>
    </message>
</context>
<context>
    <name>emloc::ui::MemoryPlot</name>
    <message>
        <source>Elapsed time</source>
        <translation>已用時間</translation>
    </message>
    <message>
        <source>Memory (GiB)</source>
        <translation>記憶體（GiB）</translation>
    </message>
    <message>
        <source>In use</source>
        <translation>使用中</translation>
    </message>
    <message>
        <source>Budget %1</source>
        <translation>預算 %1</translation>
    </message>
    <message>
        <source>Peak %1</source>
        <translation>峰值 %1</translation>
    </message>
    <message>
        <source>Rank %1</source>
        <translation>第 %1 號行程</translation>
    </message>
</context>
<context>
    <name>emloc::ui::ModelPage</name>
    <message>
        <source>%1 B</source>
        <translation>%1 B</translation>
    </message>
    <message>
        <source>%1 M</source>
        <translation>%1 M</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>The model to fine-tune. Its weights stay on disk: every stage reads them layer by layer.</source>
        <translation>要微調的模型。權重留在磁碟上：每個階段都逐層讀取。</translation>
    </message>
    <message>
        <source>Base model</source>
        <translation>基礎模型</translation>
    </message>
    <message>
        <source>&amp;Location:</source>
        <translation>位置(&amp;L)：</translation>
    </message>
    <message>
        <source>Choose the base model</source>
        <translation>選擇基礎模型</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF 模型 (*.gguf);;所有檔案 (*)</translation>
    </message>
    <message>
        <source>A Hugging Face model folder or a .gguf file</source>
        <translation>Hugging Face 模型資料夾或 .gguf 檔案</translation>
    </message>
    <message>
        <source>The folder with config.json and *.safetensors, or a single GGUF file.</source>
        <translation>含有 config.json 與 *.safetensors 的資料夾，或單一 GGUF 檔案。</translation>
    </message>
    <message>
        <source>Supported: Llama-family decoders (Llama, Qwen2, SmolLM) as Hugging Face safetensors or GGUF (F32, F16, BF16, Q8_0, Q4_0, Q4_1, K-quants).</source>
        <translation>支援：Llama 系列解碼器（Llama、Qwen2、SmolLM），格式為 Hugging Face safetensors 或 GGUF（F32、F16、BF16、Q8_0、Q4_0、Q4_1、K-quants）。</translation>
    </message>
    <message>
        <source>What the model&apos;s files say</source>
        <translation>模型檔案中的資訊</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名稱：</translation>
    </message>
    <message>
        <source>Format:</source>
        <translation>格式：</translation>
    </message>
    <message>
        <source>Architecture:</source>
        <translation>架構：</translation>
    </message>
    <message>
        <source>Decoder layers:</source>
        <translation>解碼器層數：</translation>
    </message>
    <message>
        <source>Hidden size:</source>
        <translation>隱藏層維度：</translation>
    </message>
    <message>
        <source>Vocabulary:</source>
        <translation>詞彙表大小：</translation>
    </message>
    <message>
        <source>Context length:</source>
        <translation>上下文長度：</translation>
    </message>
    <message>
        <source>Parameters:</source>
        <translation>參數量：</translation>
    </message>
    <message>
        <source>Stored as:</source>
        <translation>儲存格式：</translation>
    </message>
    <message>
        <source>Size on disk:</source>
        <translation>磁碟大小：</translation>
    </message>
    <message>
        <source>Choose the model to fine-tune on the Model page.</source>
        <translation>請在「模型」頁選擇要微調的模型。</translation>
    </message>
    <message>
        <source>The model&apos;s files are complete.</source>
        <translation>模型檔案完整。</translation>
    </message>
    <message numerus="yes">
        <source>Hugging Face folder, %n safetensors file(s)</source>
        <translation>
            <numerusform>Hugging Face 資料夾，%n 個 safetensors 檔案</numerusform>
        </translation>
    </message>
    <message>
        <source>GGUF file</source>
        <translation>GGUF 檔案</translation>
    </message>
    <message>
        <source>Vision tower:</source>
        <translation>視覺編碼器：</translation>
    </message>
    <message>
        <source>Projector:</source>
        <translation>投影層：</translation>
    </message>
    <message>
        <source>Image tiles:</source>
        <translation>圖像切塊：</translation>
    </message>
    <message>
        <source>%1; parameters: %2</source>
        <translation>%1；參數：%2</translation>
    </message>
</context>
<context>
    <name>emloc::ui::PathField</name>
    <message>
        <source>Browse…</source>
        <translation>瀏覽…</translation>
    </message>
    <message>
        <source>File…</source>
        <translation>檔案…</translation>
    </message>
    <message>
        <source>Choose a file.</source>
        <translation>選擇檔案。</translation>
    </message>
    <message>
        <source>Choose a single-file model (GGUF).</source>
        <translation>選擇單一檔案的模型（GGUF）。</translation>
    </message>
    <message>
        <source>Folder…</source>
        <translation>資料夾…</translation>
    </message>
    <message>
        <source>Choose a folder.</source>
        <translation>選擇資料夾。</translation>
    </message>
    <message>
        <source>Choose a Hugging Face model folder (config.json + safetensors).</source>
        <translation>選擇 Hugging Face 模型資料夾（config.json + safetensors）。</translation>
    </message>
</context>
<context>
    <name>emloc::ui::Project</name>
    <message>
        <source>an object</source>
        <translation>物件</translation>
    </message>
    <message>
        <source>a text</source>
        <translation>文字</translation>
    </message>
    <message>
        <source>a number</source>
        <translation>數字</translation>
    </message>
    <message>
        <source>a whole number</source>
        <translation>整數</translation>
    </message>
    <message>
        <source>true or false</source>
        <translation>true 或 false</translation>
    </message>
    <message>
        <source>a list of texts</source>
        <translation>文字清單</translation>
    </message>
    <message>
        <source>The field &quot;%1&quot; must be %2.</source>
        <translation>欄位 &quot;%1&quot; 必須是%2。</translation>
    </message>
    <message>
        <source>This is not an EMLoC Studio project: its &quot;format&quot; field is not &quot;%1&quot;.</source>
        <translation>這不是 EMLoC Studio 專案：它的 &quot;format&quot; 欄位不是 &quot;%1&quot;。</translation>
    </message>
    <message>
        <source>The project was written by a newer EMLoC Studio (format version %1; this one reads up to %2). Update EMLoC Studio to open it.</source>
        <translation>這個專案是由較新的 EMLoC Studio 寫入的（格式版本 %1；此版本最多讀取到 %2）。請更新 EMLoC Studio 後再開啟。</translation>
    </message>
    <message>
        <source>The field &quot;budget.mode&quot; must be &quot;memory&quot; or &quot;ratio&quot;, not &quot;%1&quot;.</source>
        <translation>欄位 &quot;budget.mode&quot; 必須是 &quot;memory&quot; 或 &quot;ratio&quot;，而不是 &quot;%1&quot;。</translation>
    </message>
    <message>
        <source>Cannot write &quot;%1&quot;: %2. Choose a folder you can write to.</source>
        <translation>無法寫入 &quot;%1&quot;：%2。請選擇您可以寫入的資料夾。</translation>
    </message>
    <message>
        <source>Writing &quot;%1&quot; failed: %2. Check that the disk is not full; the previous version of the file is unchanged.</source>
        <translation>寫入 &quot;%1&quot; 失敗：%2。請確認磁碟未滿；檔案的前一版沒有改變。</translation>
    </message>
    <message>
        <source>Cannot open &quot;%1&quot;: %2.</source>
        <translation>無法開啟 &quot;%1&quot;：%2。</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not valid JSON: %2 on line %3. Fix the file in a text editor or open another project.</source>
        <translation>&quot;%1&quot; 不是有效的 JSON：第 %3 行%2。請用文字編輯器修正，或開啟其他專案。</translation>
    </message>
    <message>
        <source>&quot;%1&quot; does not hold a JSON object, so it is not an EMLoC Studio project.</source>
        <translation>&quot;%1&quot; 的內容不是 JSON 物件，因此不是 EMLoC Studio 專案。</translation>
    </message>
    <message>
        <source>Cannot read the project &quot;%1&quot;: %2</source>
        <translation>無法讀取專案 &quot;%1&quot;：%2</translation>
    </message>
    <message>
        <source>The field &quot;run&quot; (the run configuration) must be an object.</source>
        <translation>欄位 &quot;run&quot;（執行設定）必須是物件。</translation>
    </message>
</context>
<context>
    <name>emloc::ui::ResultsPage</name>
    <message>
        <source>Calibration</source>
        <translation>校準</translation>
    </message>
    <message>
        <source>Emulator construction</source>
        <translation>建構模擬器</translation>
    </message>
    <message>
        <source>Fine-tuning</source>
        <translation>微調</translation>
    </message>
    <message>
        <source>Validation</source>
        <translation>驗證</translation>
    </message>
    <message>
        <source>LoRA correction</source>
        <translation>LoRA 修正</translation>
    </message>
    <message>
        <source>Evaluation</source>
        <translation>評估</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>結果</translation>
    </message>
    <message>
        <source>How the last run went: losses, memory and time, stage by stage.</source>
        <translation>上次執行的情況：逐階段的損失、記憶體與時間。</translation>
    </message>
    <message>
        <source>No results yet</source>
        <translation>尚無結果</translation>
    </message>
    <message>
        <source>Start a run on the Run page. When it ends, its losses, peak memory and timings appear here.</source>
        <translation>請在「執行」頁開始執行。結束後，損失、記憶體峰值與耗時會顯示在這裡。</translation>
    </message>
    <message>
        <source>Save &amp;Metrics as CSV…</source>
        <translation>將指標存成 CSV(&amp;M)…</translation>
    </message>
    <message>
        <source>Every sample of the run (loss, learning rate, memory, throughput) as a CSV table.</source>
        <translation>將此次執行的每個樣本（損失、學習率、記憶體、吞吐量）存成 CSV 表格。</translation>
    </message>
    <message>
        <source>Training loss (first → last)</source>
        <translation>訓練損失（起始 → 最終）</translation>
    </message>
    <message>
        <source>Best validation loss</source>
        <translation>最佳驗證損失</translation>
    </message>
    <message>
        <source>Peak memory</source>
        <translation>記憶體峰值</translation>
    </message>
    <message>
        <source>Mean tokens/s</source>
        <translation>平均詞元/秒</translation>
    </message>
    <message>
        <source>Duration</source>
        <translation>耗時</translation>
    </message>
    <message>
        <source>Optimizer steps</source>
        <translation>最佳化步數</translation>
    </message>
    <message>
        <source>Stages</source>
        <translation>階段</translation>
    </message>
    <message>
        <source>Stage</source>
        <translation>階段</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1 succeeded&lt;/b&gt; in %2.</source>
        <translation>&lt;b&gt;%1 成功&lt;/b&gt;，耗時 %2。</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1 was cancelled&lt;/b&gt; after %2; the numbers cover the part that ran.</source>
        <translation>&lt;b&gt;%1 已取消&lt;/b&gt;（執行了 %2）；數據只涵蓋已執行的部分。</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1 failed&lt;/b&gt; after %2: %3</source>
        <translation>&lt;b&gt;%1 失敗&lt;/b&gt;（執行了 %2）：%3</translation>
    </message>
    <message>
        <source>%1 → %2</source>
        <translation>%1 → %2</translation>
    </message>
    <message>
        <source>%1 at step %2</source>
        <translation>%1（第 %2 步）</translation>
    </message>
    <message>
        <source>The metrics were not saved.</source>
        <translation>指標未儲存。</translation>
    </message>
    <message>
        <source>%1 Choose another folder.</source>
        <translation>%1請選擇其他資料夾。</translation>
    </message>
    <message>
        <source>Save Metrics</source>
        <translation>儲存指標</translation>
    </message>
    <message>
        <source>CSV tables (*.csv)</source>
        <translation>CSV 表格 (*.csv)</translation>
    </message>
    <message>
        <source>Held-out evaluation</source>
        <translation>保留資料評估</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Loss</source>
        <translation>損失</translation>
    </message>
    <message>
        <source>Perplexity</source>
        <translation>困惑度</translation>
    </message>
    <message>
        <source>Match</source>
        <translation>符合率</translation>
    </message>
    <message>
        <source>Try it</source>
        <translation>試用</translation>
    </message>
    <message>
        <source>Original (no fine-tuning)</source>
        <translation>原始模型（未微調）</translation>
    </message>
    <message>
        <source>Emulator + LoRA</source>
        <translation>模擬器 + LoRA</translation>
    </message>
    <message>
        <source>Original + LoRA, uncorrected</source>
        <translation>原始模型 + LoRA，未修正</translation>
    </message>
    <message>
        <source>%1 / %2 (%3 %)</source>
        <translation>%1 / %2（%3 %）</translation>
    </message>
    <message>
        <source>Exact match</source>
        <translation>完全相符</translation>
    </message>
    <message>
        <source>Contains the reference</source>
        <translation>包含參考答案</translation>
    </message>
    <message>
        <source>Stopped by itself</source>
        <translation>自行停止</translation>
    </message>
    <message>
        <source>Answers that ended on the model&apos;s end token, not at the length limit.</source>
        <translation>以模型的結束詞元收尾、而非因達到長度上限而截斷的回答。</translation>
    </message>
    <message>
        <source>Examples: %1</source>
        <translation>範例：%1</translation>
    </message>
    <message>
        <source>Refinement of the last layers</source>
        <translation>精修最後幾層</translation>
    </message>
    <message>
        <source>Original + LoRA, corrected and refined (EMLoC)</source>
        <translation>原始模型 + LoRA，已修正並精修（EMLoC）</translation>
    </message>
    <message>
        <source>Original + LoRA, corrected (EMLoC)</source>
        <translation>原始模型 + LoRA，已修正（EMLoC）</translation>
    </message>
    <message>
        <source>Emulator (calibration and construction)</source>
        <translation>模擬器（校準與建構）</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>匯出</translation>
    </message>
    <message>
        <source>Planned peak</source>
        <translation>規劃峰值</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>備註</translation>
    </message>
    <message>
        <source>The planner&apos;s prediction for the stage, the figure a memory budget is held to.</source>
        <translation>規劃器對此階段的預測，也就是記憶體預算所依據的數字。</translation>
    </message>
    <message>
        <source>to step %1</source>
        <translation>至第 %1 步</translation>
    </message>
    <message>
        <source>&lt;b&gt;The last run in this folder&lt;/b&gt; finished on %1, at emulator ratio %2. Its stages took %3 in all.</source>
        <translation>&lt;b&gt;此資料夾的上次執行&lt;/b&gt;於 %1 完成，模擬器壓縮比 %2。各階段共耗時 %3。</translation>
    </message>
    <message>
        <source>reused</source>
        <translation>沿用</translation>
    </message>
    <message>
        <source>Made by an earlier run from the same inputs and settings; its time and peak are that run&apos;s.</source>
        <translation>由先前以相同輸入與設定的執行產生；耗時與峰值為該次執行的數字。</translation>
    </message>
    <message>
        <source>above the plan</source>
        <translation>高於規劃</translation>
    </message>
    <message>
        <source>The measured peak is above the planner&apos;s prediction, which a memory budget relies on.</source>
        <translation>量測到的峰值高於規劃器的預測，而記憶體預算正是依據這個預測。</translation>
    </message>
</context>
<context>
    <name>emloc::ui::RunPage</name>
    <message>
        <source>Run</source>
        <translation>執行</translation>
    </message>
    <message>
        <source>Build the emulator, fine-tune LoRA on it, and correct the LoRA for the original model: live.</source>
        <translation>建構模擬器、在其上微調 LoRA，再針對原始模型修正 LoRA：即時呈現。</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>開始(&amp;S)</translation>
    </message>
    <message>
        <source>Run all stages with the project&apos;s settings (F5).</source>
        <translation>以專案設定執行所有階段（F5）。</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>暫停(&amp;P)</translation>
    </message>
    <message>
        <source>Hold the job after its current step; memory stays allocated.</source>
        <translation>在目前這一步之後暫停工作；記憶體保持配置。</translation>
    </message>
    <message>
        <source>Res&amp;ume</source>
        <translation>繼續(&amp;U)</translation>
    </message>
    <message>
        <source>Continue a paused job.</source>
        <translation>繼續已暫停的工作。</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>取消(&amp;C)</translation>
    </message>
    <message>
        <source>Stop the job after its current step; nothing half-written is left behind.</source>
        <translation>在目前這一步之後停止工作；不會留下寫到一半的檔案。</translation>
    </message>
    <message>
        <source>Training loss</source>
        <translation>訓練損失</translation>
    </message>
    <message>
        <source>Tokens/s</source>
        <translation>詞元/秒</translation>
    </message>
    <message>
        <source>Time left</source>
        <translation>剩餘時間</translation>
    </message>
    <message>
        <source>Elapsed</source>
        <translation>已用時間</translation>
    </message>
    <message>
        <source>Peak memory</source>
        <translation>記憶體峰值</translation>
    </message>
    <message>
        <source>Stages</source>
        <translation>階段</translation>
    </message>
    <message>
        <source>1  Calibrate and build the emulator</source>
        <translation>1  校準並建構模擬器</translation>
    </message>
    <message>
        <source>2  Fine-tune LoRA on the emulator</source>
        <translation>2  在模擬器上微調 LoRA</translation>
    </message>
    <message>
        <source>3  Correct LoRA for the original model</source>
        <translation>3  針對原始模型修正 LoRA</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <source>Loss</source>
        <translation>損失</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>記憶體</translation>
    </message>
    <message>
        <source>The job&apos;s messages appear here.</source>
        <translation>工作的訊息會顯示在這裡。</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>記錄</translation>
    </message>
    <message>
        <source>Cancelling: the job stops after its current step…</source>
        <translation>正在取消：工作會在目前這一步結束後停止…</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>閒置</translation>
    </message>
    <message>
        <source>warning: </source>
        <translation>警告：</translation>
    </message>
    <message>
        <source>error: </source>
        <translation>錯誤：</translation>
    </message>
    <message numerus="yes">
        <source>(%n line(s) not shown: the job logged faster than they can be read)</source>
        <translation>
            <numerusform>（%n 行未顯示：工作輸出記錄的速度超過可閱讀的速度）</numerusform>
        </translation>
    </message>
    <message>
        <source>Calibrating</source>
        <translation>校準中</translation>
    </message>
    <message>
        <source>Building layers</source>
        <translation>建構各層</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>訓練</translation>
    </message>
    <message>
        <source>Correcting layers</source>
        <translation>修正各層</translation>
    </message>
    <message>
        <source>%1: %2 of %3 (%p%)</source>
        <translation>%1：%2 / %3（%p%）</translation>
    </message>
    <message>
        <source>Skipped</source>
        <translation>已略過</translation>
    </message>
    <message>
        <source>Running: %1</source>
        <translation>執行中：%1</translation>
    </message>
    <message>
        <source>%1 finished in %2.</source>
        <translation>%1 完成，耗時 %2。</translation>
    </message>
    <message>
        <source>%1 was cancelled after %2.</source>
        <translation>%1 在執行 %2 後取消。</translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation>%1 失敗：%2</translation>
    </message>
    <message>
        <source>Paused: the job holds after its current step. Resume continues it.</source>
        <translation>已暫停：工作在目前這一步之後停住。按「繼續」即可接著執行。</translation>
    </message>
    <message>
        <source>%1: done (%2 of %2)</source>
        <translation>%1：完成（%2 / %2）</translation>
    </message>
    <message>
        <source>%1 / %2 batches</source>
        <translation>%1 / %2 批次</translation>
    </message>
    <message>
        <source>%1 batches</source>
        <translation>%1 批次</translation>
    </message>
    <message>
        <source>%1 / %2 layers</source>
        <translation>%1 / %2 層</translation>
    </message>
    <message>
        <source>%1 layers</source>
        <translation>%1 層</translation>
    </message>
    <message>
        <source>%1 / %2 modules</source>
        <translation>%1 / %2 個模組</translation>
    </message>
    <message>
        <source>%1 modules</source>
        <translation>%1 個模組</translation>
    </message>
    <message>
        <source>%1 / %2 steps</source>
        <translation>%1 / %2 步</translation>
    </message>
    <message>
        <source>%1 steps</source>
        <translation>%1 步</translation>
    </message>
    <message>
        <source>Building the emulator: calibrating (stage 1 of 3)</source>
        <translation>建立模擬器：校準中（第 1 / 3 階段）</translation>
    </message>
    <message>
        <source>Building the emulator (stage 1 of 3)</source>
        <translation>建立模擬器（第 1 / 3 階段）</translation>
    </message>
    <message>
        <source>Fine-tuning LoRA on the emulator (stage 2 of 3)</source>
        <translation>在模擬器上微調 LoRA（第 2 / 3 階段）</translation>
    </message>
    <message>
        <source>Correcting LoRA for the original model (stage 3 of 3)</source>
        <translation>針對原始模型修正 LoRA（第 3 / 3 階段）</translation>
    </message>
    <message>
        <source>Evaluating on held-out examples</source>
        <translation>以保留的範例評估中</translation>
    </message>
    <message>
        <source>Exporting</source>
        <translation>匯出中</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>進度</translation>
    </message>
    <message>
        <source>Refining the last layers&apos; LoRA on the original model (stage 3 of 3)</source>
        <translation>在原始模型上精修最後幾層的 LoRA（第 3 / 3 階段）</translation>
    </message>
    <message>
        <source>Refining</source>
        <translation>精修中</translation>
    </message>
    <message>
        <source>The plot shows the training of this folder&apos;s last run (finished on %1). Start runs the stages again, reusing those whose inputs and settings did not change.</source>
        <translation>圖表顯示此資料夾上次執行的訓練（於 %1 完成）。按「開始」會重新執行各階段，輸入與設定未變的階段會沿用。</translation>
    </message>
    <message>
        <source>A job of several processes cannot pause: the others would stop waiting for it. Cancel it instead; Start resumes from its last checkpoint.</source>
        <translation>多行程的工作無法暫停：其他行程會停止等待。請改為取消；「開始」會從最後的檢查點續跑。</translation>
    </message>
    <message>
        <source>Tokens per second of the whole job, its %1 processes together.</source>
        <translation>整個工作每秒處理的 token 數，%1 個行程合計。</translation>
    </message>
    <message>
        <source>The largest peak of the job&apos;s processes.</source>
        <translation>工作各行程中最大的峰值。</translation>
    </message>
</context>
<context>
    <name>emloc::ui::RunSummary</name>
    <message>
        <source>Cannot write &quot;%1&quot;: %2.</source>
        <translation>無法寫入 &quot;%1&quot;：%2。</translation>
    </message>
</context>
<context>
    <name>emloc::ui::TradeOffPlot</name>
    <message>
        <source>Compression ratio (share of each layer kept)</source>
        <translation>壓縮比（每層保留的比例）</translation>
    </message>
    <message>
        <source>Peak memory (GiB)</source>
        <translation>峰值記憶體（GiB）</translation>
    </message>
    <message>
        <source>Stage 2: LoRA on the emulator</source>
        <translation>階段 2：在模擬器上訓練 LoRA</translation>
    </message>
    <message>
        <source>Stage 1: build the emulator</source>
        <translation>階段 1：建立模擬器</translation>
    </message>
    <message>
        <source>Stage 3: correct the LoRA</source>
        <translation>階段 3：修正 LoRA</translation>
    </message>
    <message>
        <source>Inference of the original model</source>
        <translation>原始模型推論</translation>
    </message>
    <message>
        <source>ratio %1</source>
        <translation>壓縮比 %1</translation>
    </message>
    <message>
        <source>Activation energy kept, after calibration (right axis)</source>
        <translation>校準後保留的激活能量（右軸）</translation>
    </message>
    <message>
        <source>Energy kept (%)</source>
        <translation>保留的能量（%）</translation>
    </message>
</context>
</TS>
