// <immintrin.h> for the AVX-512 files. GCC 12's AVX-512 intrinsics start from
// _mm512_undefined_*() and then warn (-Wuninitialized) inside the header once
// inlined; the values are fully written, so silence the header only.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
