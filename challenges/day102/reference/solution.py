"""Day 102 reference: a fixed-point dense layer with ReLU in HLS-style C++ (ap_fixed)."""

DENSE_CPP = r"""
#include "dense_layer.h"

// 16 exact products of ap_fixed<16,6> (32 bits, 20 fraction bits) plus the bias: at most
// 16 * 32 * 32 + 32 = 16416 in magnitude, so 16 integer bits (sign included) never overflow
typedef ap_fixed<36, 16> accum_t;
// the output quantiser: round half up, saturate at the top of the range
typedef ap_fixed<16, 6, AP_RND, AP_SAT> result_t;

void dense_relu(const data_t x[N_IN], const data_t w[N_OUT][N_IN], const data_t b[N_OUT],
                data_t y[N_OUT]) {
#pragma HLS ARRAY_PARTITION variable=x complete
#pragma HLS ARRAY_PARTITION variable=w complete dim=2
rows:
    for (int j = 0; j < N_OUT; j++) {
#pragma HLS PIPELINE II=1
        accum_t acc = b[j];
    macs:
        for (int i = 0; i < N_IN; i++) {
            acc += x[i] * w[j][i];  // each product is exact: ap_fixed<32,12>
        }
        if (acc < 0) {
            acc = 0;  // ReLU on the exact sum
        }
        y[j] = result_t(acc);  // one rounding, one saturation, at the very end
    }
}
"""
