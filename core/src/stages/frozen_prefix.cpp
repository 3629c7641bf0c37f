#include "frozen_prefix.h"

#include "emloc/api/error.h"
#include "emloc/stages/image_inputs.h"

namespace emloc::core {

FrozenPrefix::FrozenPrefix(CausalLM &model, const std::vector<TokenizedExample> &examples, int64_t layers,
                           int64_t maxBytes, const ImageInputs *images)
    : m_model(model), m_examples(examples), m_images(images), m_layers(layers), m_maxBytes(maxBytes)
{
    if (layers < 1 || layers > model.numLayers())
        throw Error("a frozen prefix needs 1 to " + std::to_string(model.numLayers()) + " layers, got " +
                    std::to_string(layers));
}

torch::Tensor FrozenPrefix::compute(size_t example) const
{
    torch::NoGradGuard noGrad;
    const TokenizedExample &source = m_examples.at(example);
    const auto &ids = source.inputIds;
    const auto length = static_cast<int64_t>(ids.size());
    auto tokens = torch::tensor(ids, torch::kInt64).view({1, length}).to(m_model.placement().device);
    auto hidden = m_images ? m_images->embed(m_model, tokens, source.images) : m_model.embed(tokens);
    const LayerInputs inputs = m_model.prepareInputs(1, length);
    for (int64_t layer = 0; layer < m_layers; ++layer)
        hidden = m_model.runLayer(layer, hidden, inputs);
    return hidden.squeeze(0);
}

torch::Tensor FrozenPrefix::hidden(const Batch &batch)
{
    if (batch.exampleRows.empty())
        throw Error("the batch does not say which examples it holds");
    const int64_t length = batch.inputIds.size(1);
    std::vector<torch::Tensor> rows;
    for (const auto &row : batch.exampleRows) {
        std::vector<torch::Tensor> pieces;
        int64_t filled = 0;
        for (size_t example : row) {
            auto found = m_cache.find(example);
            torch::Tensor piece = found != m_cache.end() ? found->second : compute(example);
            if (found == m_cache.end()) {
                const int64_t bytes = piece.numel() * piece.element_size();
                if (m_bytes + bytes <= m_maxBytes) {
                    m_cache.emplace(example, piece);
                    m_bytes += bytes;
                }
            }
            filled += piece.size(0);
            pieces.push_back(piece);
        }
        if (filled < length)
            pieces.push_back(
                torch::zeros({length - filled, pieces.front().size(1)}, pieces.front().options()));
        rows.push_back(torch::cat(pieces));
    }
    return torch::stack(rows);
}

} // namespace emloc::core
