"""Day 102: a fixed-point dense layer with ReLU in HLS-style C++ (ap_fixed), graded by
C-simulation with g++. The C++ translation unit is the string DENSE_CPP."""

DENSE_CPP = r"""
#include "dense_layer.h"

// TODO: an accumulator type wide enough for the exact sum of 16 products plus the bias
//       (an ap_fixed<W, I> with 20 fraction bits: how many integer bits does it need?)
// TODO: an output quantiser type: ap_fixed<16, 6, ROUNDING, OVERFLOW> with round half up
//       and saturation (the defaults truncate and wrap around)

void dense_relu(const data_t x[N_IN], const data_t w[N_OUT][N_IN], const data_t b[N_OUT],
                data_t y[N_OUT]) {
    // TODO: #pragma HLS ARRAY_PARTITION for x (complete) and for w (complete, dim=2)
    // TODO: a loop over the N_OUT outputs with #pragma HLS PIPELINE II=1 in its body:
    //       start from the bias, add the N_IN products exactly, apply ReLU, then quantise
    //       once into y[j]
    (void)x; (void)w; (void)b; (void)y;
}
"""
