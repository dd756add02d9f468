/*
 * SHA-1 block functions on Intel's SHA extensions (SHA-NI), one stream and two streams interleaved.
 * Written from FIPS 180-4 and Intel's documented intrinsics. A single SHA-1 stream is bound by the latency of
 * the sha1rnds4 chain (measured here: ≈6 cycles latency, one every ≈3 cycles), so two independent streams in
 * one loop can share the unit; but sha1msg2 (one every ≈4 cycles) uses the same unit, so the second stream's
 * message schedule is computed with ordinary vector instructions instead (msg2 below). Built twice: as is, and
 * by sha1-x2-avx512.c for CPUs with AVX-512F and VL, where every stream's schedule goes that way (MSG2_A).
 *
 * Built as position-independent code with no relocations (gen-code.sh checks), copied into the
 * binary as bytes and run from executable memory (see machine-code.ts and ../verify/sha1-native.ts): no data section, no calls.
 *
 * state: five 32-bit words h0..h4 in host order. data: `blocks` 64-byte blocks, no padding (the caller pads).
 */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define INLINE static inline __attribute__((always_inline))

/* Reverses the 16 bytes of a load: words become big-endian and word 0 lands in the top lane, as sha1rnds4 wants. */
INLINE __m128i byte_mask(void) {
  long long hi = 0x0001020304050607LL, lo = 0x08090a0b0c0d0e0fLL;
  /* Opaque to the optimiser, so the mask is built from immediates and not loaded from .rodata (a relocation). */
  __asm__("" : "+r"(hi), "+r"(lo));
  return _mm_set_epi64x(hi, lo);
}

typedef struct {
  __m128i abcd, e;
} sha1_lanes;

INLINE sha1_lanes load_state(const uint32_t *s) {
  sha1_lanes l;
  l.abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)s), 0x1B); /* a in the top lane */
  l.e = _mm_insert_epi32(_mm_setzero_si128(), (int)s[4], 3);
  return l;
}

INLINE void store_state(uint32_t *s, sha1_lanes l) {
  _mm_storeu_si128((__m128i *)s, _mm_shuffle_epi32(l.abcd, 0x1B));
  s[4] = (uint32_t)_mm_extract_epi32(l.e, 3);
}

#ifdef SHA1_AVX512
/* sha1-x2-avx512.c: this file again for CPUs with AVX-512F and VL, its functions named with a suffix. */
#define NAMED(f) f##_avx512
INLINE __m128i rol(__m128i x, int n) { return _mm_rol_epi32(x, n); } /* vprold */
#else
#ifdef SHA1_SHA_UNIT
#define NAMED(f) f##_sha_unit
#else
#define NAMED(f) f
#endif
INLINE __m128i rol(__m128i x, int n) { return _mm_or_si128(_mm_slli_epi32(x, n), _mm_srli_epi32(x, 32 - n)); }
#endif

/*
 * What sha1msg2(x, w3) computes, on the ordinary vector units. sha1msg2 competes with sha1rnds4 for the same
 * unit (measured on this Ice Lake: their costs add up), which left little room for a second stream; with
 * stream B's schedule here and stream A's on sha1msg2 the two kinds of unit share the work (C loop, 1 MiB:
 * 2.1 GB/s per CPU second for the pair against 1.3-1.4 for one stream).
 * x holds W[t-16]^W[t-14]^W[t-8] for t..t+3 (W[t] in the top lane), w3 is W[t-4..t-1]. Each W[t] is
 * (x ^ W[t-3]) rol 1; W[t+3] needs W[t] of the same group, added after the rotation (rol distributes over ^).
 */
INLINE __m128i msg2(__m128i x, __m128i w3) {
  __m128i r = rol(_mm_xor_si128(x, _mm_slli_si128(w3, 4)), 1); /* W[t-3..t-1] under lanes t..t+2 */
  return _mm_xor_si128(r, rol(_mm_srli_si128(r, 12), 1));     /* W[t] rol 1 into the lane of W[t+3] */
}

/*
 * The schedule of sha1_x1 and of sha1_x2's first stream. With AVX-512 msg2 is six instructions (vprold for the
 * rotates, vpternlogd for the three-way xor before it, thirty-two registers so nothing spills) and beats
 * sha1msg2 on the SHA unit for every stream (in process, 1 MiB pieces, against sha1msg2 in this build with other
 * work on the machine: two streams 1.69 -> 1.78 GB per CPU second, one 1.33 -> 1.46, about even when quiet);
 * without AVX-512 msg2 is ten instructions and sha1msg2 wins (msg2 for both: one stream 1.42 -> 1.21, two 1.59 -> 1.53).
 */
#ifdef SHA1_AVX512
#define MSG2_A msg2
#else
#define MSG2_A _mm_sha1msg2_epu32
#endif

/*
 * The schedule of the other streams. On the CPUs the base build was measured on (Ice Lake) sha1msg2 and
 * sha1rnds4 share a unit, so a second stream's schedule is cheaper on the vector units (msg2). Where the SHA
 * unit has room for both (AMD Zen 4: 1 MiB pieces in pairs 2.54 GB per CPU second with sha1msg2 for both
 * streams, 1.91 with msg2 for the second), sha1-x2-sha-unit.c builds this file with SHA1_SHA_UNIT.
 */
#ifdef SHA1_SHA_UNIT
#define MSG2_B _mm_sha1msg2_epu32
#else
#define MSG2_B msg2
#endif

/*
 * One group of four rounds, i in 0..19 (function/constant i / 5). w[] holds the message schedule in groups of
 * four words, rolling over four registers: w[i % 4] is W[4i..4i+3]; the message for group i + 4 is prepared
 * here as soon as its inputs exist: W(i+4) = MSG2(sha1msg1(W(i), W(i+1)) ^ W(i+2), W(i+3)).
 * The e of group 0 is the state's, added to W; after that sha1nexte derives it from the a before the previous
 * group (rotated by 30) and adds it to the group's W. MSG2 is MSG2_A or msg2 above.
 */
#define ROUND4(L, prev, w, i, MSG2)                                                                        \
  do {                                                                                                     \
    __m128i ew = (i) == 0 ? _mm_add_epi32((L).e, w[0]) : _mm_sha1nexte_epu32(prev, w[(i) & 3]);           \
    prev = (L).abcd;                                                                                       \
    (L).abcd = _mm_sha1rnds4_epu32((L).abcd, ew, (i) / 5);                                                 \
    if ((i) + 4 < 20)                                                                                      \
      w[(i) & 3] = MSG2(_mm_xor_si128(_mm_sha1msg1_epu32(w[(i) & 3], w[((i) + 1) & 3]), w[((i) + 2) & 3]), \
                        w[((i) + 3) & 3]);                                                                 \
  } while (0)

INLINE void load_block(__m128i w[4], const uint8_t *p, __m128i mask) {
#pragma GCC unroll 4
  for (int k = 0; k < 4; k++) w[k] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * k)), mask);
}

INLINE sha1_lanes finish(sha1_lanes start, sha1_lanes l, __m128i prev) {
  /* e after 80 rounds is the a before the last group rotated by 30: sha1nexte adds it to the starting e. */
  sha1_lanes out;
  out.e = _mm_sha1nexte_epu32(prev, start.e);
  out.abcd = _mm_add_epi32(l.abcd, start.abcd);
  return out;
}

void NAMED(sha1_x1)(uint32_t *state, const uint8_t *data, size_t blocks) {
  _mm256_zeroupper(); /* the caller may leave upper halves dirty: legacy-SSE SHA instructions would pay for it */
  const __m128i mask = byte_mask();
  sha1_lanes s = load_state(state);
  for (size_t b = 0; b < blocks; b++, data += 64) {
    __m128i w[4], prev = _mm_setzero_si128();
    sha1_lanes l = s;
    load_block(w, data, mask);
#pragma GCC unroll 20
    for (int i = 0; i < 20; i++) ROUND4(l, prev, w, i, MSG2_A);
    s = finish(s, l, prev);
  }
  store_state(state, s);
}

void NAMED(sha1_x2)(uint32_t *state_a, uint32_t *state_b, const uint8_t *a, const uint8_t *b, size_t blocks) {
  _mm256_zeroupper();
  const __m128i mask = byte_mask();
  sha1_lanes sa = load_state(state_a), sb = load_state(state_b);
  for (size_t n = 0; n < blocks; n++, a += 64, b += 64) {
    __m128i wa[4], wb[4], pa = _mm_setzero_si128(), pb = _mm_setzero_si128();
    sha1_lanes la = sa, lb = sb;
    load_block(wa, a, mask);
    load_block(wb, b, mask);
#pragma GCC unroll 20
    for (int i = 0; i < 20; i++) {
      ROUND4(la, pa, wa, i, MSG2_A);
      ROUND4(lb, pb, wb, i, MSG2_B);
    }
    sa = finish(sa, la, pa);
    sb = finish(sb, lb, pb);
  }
  store_state(state_a, sa);
  store_state(state_b, sb);
}

/*
 * Four independent streams in one loop (states: four times five words). One stream waits on the sha1rnds4
 * chain's latency; where the unit can issue more often, four streams keep it busy (Zen 4, sha-unit build,
 * 1 MiB pieces, C loop: one stream 1.47 GB per CPU second, two 2.57, four 3.6). Streams A and C schedule
 * with MSG2_A, B and D with MSG2_B.
 */
void NAMED(sha1_x4)(uint32_t *states, const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *d,
                    size_t blocks) {
  _mm256_zeroupper();
  const __m128i mask = byte_mask();
  sha1_lanes sa = load_state(states), sb = load_state(states + 5), sc = load_state(states + 10),
             sd = load_state(states + 15);
  for (size_t n = 0; n < blocks; n++, a += 64, b += 64, c += 64, d += 64) {
    __m128i wa[4], wb[4], wc[4], wd[4];
    __m128i pa = _mm_setzero_si128(), pb = pa, pc = pa, pd = pa;
    sha1_lanes la = sa, lb = sb, lc = sc, ld = sd;
    load_block(wa, a, mask);
    load_block(wb, b, mask);
    load_block(wc, c, mask);
    load_block(wd, d, mask);
#pragma GCC unroll 20
    for (int i = 0; i < 20; i++) {
      ROUND4(la, pa, wa, i, MSG2_A);
      ROUND4(lb, pb, wb, i, MSG2_B);
      ROUND4(lc, pc, wc, i, MSG2_A);
      ROUND4(ld, pd, wd, i, MSG2_B);
    }
    sa = finish(sa, la, pa);
    sb = finish(sb, lb, pb);
    sc = finish(sc, lc, pc);
    sd = finish(sd, ld, pd);
  }
  store_state(states, sa);
  store_state(states + 5, sb);
  store_state(states + 10, sc);
  store_state(states + 15, sd);
}
