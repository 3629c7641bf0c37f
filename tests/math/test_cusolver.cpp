// The cuSOLVER backend against LibTorch's, on a GPU. Skipped, and says so, where there is none.
#include "emloc/math/linear_algebra.h"

#include "unit_test.h"

using namespace emloc::core;

SUITE_SETUP()
{
    if (!torch::cuda::is_available())
        SKIP("no CUDA GPU on this machine: the cuSOLVER backend is compiled but cannot run here");
}

TEST_CASE(eigenAndSvdMatchLibTorch)
{
    auto cusolver = makeCusolverLinearAlgebra();
    auto reference = makeLibTorchLinearAlgebra();
    auto options = torch::TensorOptions().dtype(torch::kFloat64).device(torch::kCUDA);
    torch::manual_seed(1);
    torch::Tensor x = torch::randn({300, 40}, options);
    torch::Tensor g = x.t().matmul(x);
    auto ours = cusolver->symmetricEigen(g);
    auto theirs = reference->symmetricEigen(g);
    VERIFY(torch::allclose(ours.values, theirs.values, 1e-9, 1e-8));
    VERIFY(torch::allclose(ours.vectors.matmul(torch::diag(ours.values)).matmul(ours.vectors.t()), g, 1e-9,
                           1e-7));
    for (auto shape : {std::pair<int64_t, int64_t>{50, 30}, {30, 50}}) {
        torch::Tensor m = torch::randn({shape.first, shape.second}, options);
        auto svd = cusolver->thinSvd(m);
        auto ref = reference->thinSvd(m);
        VERIFY(torch::allclose(svd.s, ref.s, 1e-9, 1e-9));
        VERIFY(torch::allclose(svd.u.matmul(torch::diag(svd.s)).matmul(svd.vh), m, 1e-9, 1e-9));
    }
}
