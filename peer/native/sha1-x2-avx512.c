/*
 * sha1-x2.c for CPUs with AVX-512F and AVX-512VL (sha1_x1_avx512, sha1_x2_avx512): every stream's message
 * schedule on the vector units, with rotates (vprold), three-input logic (vpternlogd) and thirty-two vector
 * registers (nothing spills to the stack). ../verify/sha1-native.ts runs this build where /proc/cpuinfo reports
 * both, and the base one elsewhere. gen-code.sh builds it as any other file of the folder:
 *   sh peer/native/gen-code.sh sha1-x2-avx512 sha1_x1_avx512 sha1_x2_avx512
 */
#pragma GCC target("avx512f,avx512vl")
#define SHA1_AVX512
#include "sha1-x2.c"
