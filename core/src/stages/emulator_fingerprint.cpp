// Fingerprints of source models for emulator.json: cheap for multi-gigabyte files, yet they change when the
// weights are replaced.
#include "emloc/stages/emulator_build.h"

#include "emloc/api/error.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace emloc::core {

namespace {
class Sha256
{
public:
    void update(const uint8_t *data, size_t size)
    {
        for (size_t i = 0; i < size; ++i) {
            m_block[m_used++] = data[i];
            if (m_used == 64) {
                compress();
                m_used = 0;
            }
        }
        m_bits += uint64_t(size) * 8;
    }
    void update(const std::string &text)
    {
        update(reinterpret_cast<const uint8_t *>(text.data()), text.size());
    }

    std::string hex()
    {
        const uint64_t bits = m_bits;
        const uint8_t one = 0x80, zero = 0;
        update(&one, 1);
        while (m_used != 56)
            update(&zero, 1);
        uint8_t length[8];
        for (int i = 0; i < 8; ++i)
            length[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
        update(length, 8);
        static const char *digits = "0123456789abcdef";
        std::string out;
        for (uint32_t word : m_state)
            for (int shift = 28; shift >= 0; shift -= 4)
                out += digits[(word >> shift) & 0xf];
        return out;
    }

private:
    static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
    void compress()
    {
        static const uint32_t k[64] = {
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
            0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
            0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
            0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
            0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
        uint32_t w[64];
        for (int i = 0; i < 16; ++i)
            w[i] = uint32_t(m_block[4 * i]) << 24 | uint32_t(m_block[4 * i + 1]) << 16 |
                   uint32_t(m_block[4 * i + 2]) << 8 | uint32_t(m_block[4 * i + 3]);
        for (int i = 16; i < 64; ++i) {
            const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = m_state[0], b = m_state[1], c = m_state[2], d = m_state[3], e = m_state[4],
                 f = m_state[5], g = m_state[6], h = m_state[7];
        for (int i = 0; i < 64; ++i) {
            const uint32_t t1 =
                h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
            const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        const uint32_t add[8] = {a, b, c, d, e, f, g, h};
        for (int i = 0; i < 8; ++i)
            m_state[i] += add[i];
    }

    std::array<uint32_t, 8> m_state{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint8_t m_block[64] = {};
    size_t m_used = 0;
    uint64_t m_bits = 0;
};

// `size` bytes of `path` from `offset` (fewer at the end of the file).
std::string readBytes(const std::string &path, uint64_t offset, uint64_t size)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("cannot read '" + path + "' to fingerprint the model");
    in.seekg(static_cast<std::streamoff>(offset));
    std::string bytes(size, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    bytes.resize(static_cast<size_t>(in.gcount()));
    return bytes;
}

uint64_t littleEndian64(const std::string &bytes)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i)
        value = (value << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
    return value;
}
} // namespace

std::string sha256Hex(const std::string &bytes)
{
    Sha256 hash;
    hash.update(bytes);
    return hash.hex();
}

std::string modelFingerprint(const std::string &modelPath)
{
    namespace fs = std::filesystem;
    Sha256 hash;
    std::error_code error;
    if (fs::is_regular_file(modelPath, error)) {
        const uint64_t size = fs::file_size(modelPath);
        constexpr uint64_t kHead = 8ull << 20, kTail = 1ull << 20;
        hash.update("size " + std::to_string(size) + "\n");
        hash.update(readBytes(modelPath, 0, kHead));
        if (size > kHead)
            hash.update(readBytes(modelPath, std::max(kHead, size - kTail), kTail));
        return hash.hex();
    }
    if (!fs::is_directory(modelPath, error))
        throw Error("cannot fingerprint '" + modelPath + "': it is neither a file nor a folder");
    std::vector<fs::path> files;
    for (const auto &entry : fs::directory_iterator(modelPath))
        if (entry.is_regular_file())
            files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto &file : files) {
        const std::string name = file.filename().string();
        const bool safetensors = file.extension() == ".safetensors";
        if (name != "config.json" && !safetensors)
            continue;
        const uint64_t size = fs::file_size(file);
        hash.update(name + " " + std::to_string(size) + "\n");
        if (name == "config.json") {
            hash.update(readBytes(file.string(), 0, size));
        } else if (size >= 8) {
            const uint64_t headerSize = littleEndian64(readBytes(file.string(), 0, 8));
            hash.update(readBytes(file.string(), 8, std::min<uint64_t>(headerSize, size - 8)));
        }
    }
    return hash.hex();
}

} // namespace emloc::core
