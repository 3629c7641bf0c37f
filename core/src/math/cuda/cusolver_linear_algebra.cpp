// cuSOLVER called directly: syevd for the Gram matrices' eigendecomposition, gesvdj (Jacobi, economy
// size) for the whitened weights' SVD. cuSOLVER is column-major and torch row-major, so each call
// works on the transpose and the results are read back transposed.
#include "emloc/api/error.h"
#include "emloc/math/linear_algebra.h"

#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <cusolverDn.h>

#include <string>

namespace emloc::core {

namespace {
void check(cusolverStatus_t status, const char *what)
{
    if (status != CUSOLVER_STATUS_SUCCESS)
        throw Error(std::string("cuSOLVER ") + what + " failed with status " + std::to_string(int(status)) +
                    ".");
}

void checkInfo(const torch::Tensor &info, const char *what)
{
    int value = info.item<int>();
    if (value != 0)
        throw Error(std::string("cuSOLVER ") + what + " did not converge (info " + std::to_string(value) +
                    "); the matrix may contain NaN or Inf values.");
}

class CusolverLinearAlgebra : public LinearAlgebra
{
public:
    CusolverLinearAlgebra() { check(cusolverDnCreate(&m_handle), "handle creation"); }
    ~CusolverLinearAlgebra() override { cusolverDnDestroy(m_handle); }

    std::string name() const override { return "cusolver"; }

    Eigen symmetricEigen(const torch::Tensor &g) const override
    {
        requireCuda(g, "symmetricEigen");
        auto options = g.options();
        // Symmetric, so the row-major buffer is already the column-major matrix.
        torch::Tensor a = g.contiguous().clone();
        const int n = static_cast<int>(g.size(0));
        torch::Tensor values = torch::empty({n}, options);
        torch::Tensor info = torch::zeros({1}, options.dtype(torch::kInt32));
        bindStream();
        int workSize = 0;
        if (g.scalar_type() == torch::kFloat64) {
            check(cusolverDnDsyevd_bufferSize(m_handle, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER, n,
                                              a.data_ptr<double>(), n, values.data_ptr<double>(), &workSize),
                  "syevd buffer size");
            torch::Tensor work = torch::empty({std::max(workSize, 1)}, options);
            check(cusolverDnDsyevd(m_handle, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER, n,
                                   a.data_ptr<double>(), n, values.data_ptr<double>(),
                                   work.data_ptr<double>(), workSize, info.data_ptr<int>()),
                  "syevd");
        } else {
            a = a.to(torch::kFloat32);
            values = values.to(torch::kFloat32);
            check(cusolverDnSsyevd_bufferSize(m_handle, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER, n,
                                              a.data_ptr<float>(), n, values.data_ptr<float>(), &workSize),
                  "syevd buffer size");
            torch::Tensor work = torch::empty({std::max(workSize, 1)}, options.dtype(torch::kFloat32));
            check(cusolverDnSsyevd(m_handle, CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER, n,
                                   a.data_ptr<float>(), n, values.data_ptr<float>(), work.data_ptr<float>(),
                                   workSize, info.data_ptr<int>()),
                  "syevd");
        }
        checkInfo(info, "syevd");
        // Column-major eigenvectors read row-major are transposed.
        return {values.to(g.scalar_type()), a.t().contiguous().to(g.scalar_type())};
    }

    Svd thinSvd(const torch::Tensor &m) const override
    {
        requireCuda(m, "thinSvd");
        const bool isDouble = m.scalar_type() == torch::kFloat64;
        auto options = m.options().dtype(isDouble ? torch::kFloat64 : torch::kFloat32);
        // The row-major m x n buffer is the column-major n x m matrix M^T = V S U^T.
        torch::Tensor a = m.to(options.dtype()).contiguous().clone();
        const int rows = static_cast<int>(m.size(1)); // of M^T
        const int cols = static_cast<int>(m.size(0));
        const int p = std::min(rows, cols);
        torch::Tensor s = torch::empty({p}, options);
        torch::Tensor left = torch::empty({p, rows}, options);  // column-major rows x p
        torch::Tensor right = torch::empty({p, cols}, options); // column-major cols x p
        torch::Tensor info = torch::zeros({1}, options.dtype(torch::kInt32));
        gesvdjInfo_t params = nullptr;
        check(cusolverDnCreateGesvdjInfo(&params), "gesvdj parameters");
        bindStream();
        int workSize = 0;
        try {
            if (isDouble) {
                check(cusolverDnDgesvdj_bufferSize(m_handle, CUSOLVER_EIG_MODE_VECTOR, 1, rows, cols,
                                                   a.data_ptr<double>(), rows, s.data_ptr<double>(),
                                                   left.data_ptr<double>(), rows, right.data_ptr<double>(),
                                                   cols, &workSize, params),
                      "gesvdj buffer size");
                torch::Tensor work = torch::empty({std::max(workSize, 1)}, options);
                check(cusolverDnDgesvdj(m_handle, CUSOLVER_EIG_MODE_VECTOR, 1, rows, cols,
                                        a.data_ptr<double>(), rows, s.data_ptr<double>(),
                                        left.data_ptr<double>(), rows, right.data_ptr<double>(), cols,
                                        work.data_ptr<double>(), workSize, info.data_ptr<int>(), params),
                      "gesvdj");
            } else {
                check(cusolverDnSgesvdj_bufferSize(m_handle, CUSOLVER_EIG_MODE_VECTOR, 1, rows, cols,
                                                   a.data_ptr<float>(), rows, s.data_ptr<float>(),
                                                   left.data_ptr<float>(), rows, right.data_ptr<float>(),
                                                   cols, &workSize, params),
                      "gesvdj buffer size");
                torch::Tensor work = torch::empty({std::max(workSize, 1)}, options);
                check(cusolverDnSgesvdj(m_handle, CUSOLVER_EIG_MODE_VECTOR, 1, rows, cols,
                                        a.data_ptr<float>(), rows, s.data_ptr<float>(),
                                        left.data_ptr<float>(), rows, right.data_ptr<float>(), cols,
                                        work.data_ptr<float>(), workSize, info.data_ptr<int>(), params),
                      "gesvdj");
            }
        } catch (...) {
            cusolverDnDestroyGesvdjInfo(params);
            throw;
        }
        cusolverDnDestroyGesvdjInfo(params);
        checkInfo(info, "gesvdj");
        // M^T = left S right^T, so M = right S left^T: U = right, V^T = left^T. Column-major buffers
        // read row-major are already transposed: `left` holds left^T (= V^T), `right` holds U^T.
        auto dtype = m.scalar_type();
        return {right.t().contiguous().to(dtype), s.to(dtype), left.contiguous().to(dtype)};
    }

private:
    static void requireCuda(const torch::Tensor &t, const char *what)
    {
        if (!t.is_cuda())
            throw Error(std::string("cuSOLVER ") + what +
                        " needs a CUDA tensor; use the LibTorch backend on the CPU.");
    }
    void bindStream() const { cusolverDnSetStream(m_handle, c10::cuda::getCurrentCUDAStream().stream()); }

    cusolverDnHandle_t m_handle = nullptr;
};
} // namespace

std::unique_ptr<LinearAlgebra> makeCusolverLinearAlgebra()
{
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0)
        throw Error("The cuSOLVER backend needs a CUDA GPU, and none is usable here. Use --device cpu.");
    return std::make_unique<CusolverLinearAlgebra>();
}

} // namespace emloc::core
