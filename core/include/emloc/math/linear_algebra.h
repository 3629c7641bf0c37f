#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

namespace emloc::core {

// The two factorizations EMLoC needs, behind one interface so the emulator can be built with
// LibTorch's LAPACK/MAGMA path or with cuSOLVER called directly. Inputs are not modified; results
// are on the input's device and in its dtype. Callers may use one backend from one thread at a time.
class LinearAlgebra
{
public:
    virtual ~LinearAlgebra() = default;
    virtual std::string name() const = 0;

    // Symmetric eigendecomposition G = Q diag(l) Q^T, eigenvalues ascending.
    struct Eigen
    {
        torch::Tensor values;  // [n]
        torch::Tensor vectors; // [n, n], columns
    };
    virtual Eigen symmetricEigen(const torch::Tensor &g) const = 0;

    // Thin SVD M = U diag(s) V^T, singular values descending.
    struct Svd
    {
        torch::Tensor u;  // [m, min(m,n)]
        torch::Tensor s;  // [min(m,n)]
        torch::Tensor vh; // [min(m,n), n]
    };
    virtual Svd thinSvd(const torch::Tensor &m) const = 0;
};

// LibTorch's own (LAPACK on the CPU, cuSOLVER/MAGMA as LibTorch chooses on CUDA).
std::unique_ptr<LinearAlgebra> makeLibTorchLinearAlgebra();

// cuSOLVER called directly (syevd, gesvdj); available when the CUDA code paths are compiled.
// Throws Error when they are not, or when no GPU is usable.
std::unique_ptr<LinearAlgebra> makeCusolverLinearAlgebra();

// The backend for a device string: "cuda*" -> cuSOLVER when compiled, else LibTorch.
std::unique_ptr<LinearAlgebra> makeLinearAlgebra(const std::string &device);

} // namespace emloc::core
