#include "emloc/math/linear_algebra.h"

#include "emloc/api/error.h"

namespace emloc::core {

namespace {
class LibTorchLinearAlgebra : public LinearAlgebra
{
public:
    std::string name() const override { return "libtorch"; }

    Eigen symmetricEigen(const torch::Tensor &g) const override
    {
        auto [values, vectors] = torch::linalg_eigh(g);
        return {values, vectors};
    }

    Svd thinSvd(const torch::Tensor &m) const override
    {
        auto [u, s, vh] = torch::linalg_svd(m, /*full_matrices=*/false);
        return {u, s, vh};
    }
};
} // namespace

std::unique_ptr<LinearAlgebra> makeLibTorchLinearAlgebra()
{
    return std::make_unique<LibTorchLinearAlgebra>();
}

#ifndef EMLOC_HAVE_CUDA
std::unique_ptr<LinearAlgebra> makeCusolverLinearAlgebra()
{
    throw Error("The cuSOLVER backend is not compiled into this build (no CUDA toolkit was found when it was "
                "configured). Use the LibTorch backend, or rebuild with the CUDA toolkit installed.");
}
#endif

std::unique_ptr<LinearAlgebra> makeLinearAlgebra(const std::string &device)
{
#ifdef EMLOC_HAVE_CUDA
    if (device.rfind("cuda", 0) == 0)
        return makeCusolverLinearAlgebra();
#else
    (void)device;
#endif
    return makeLibTorchLinearAlgebra();
}

} // namespace emloc::core
