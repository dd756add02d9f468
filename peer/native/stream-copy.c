/*
 * Copies a received block into its pool slot with streaming (non-temporal) stores. A slot is written long
 * after it was last touched (the pool turns over tens of MiB between two uses of one slot), so an ordinary
 * copy first reads every destination line from memory only to overwrite it; streaming stores skip that read.
 * Built by gen-code.sh into machine code kept in the binary (see machine-code.ts): no data, no calls.
 */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes one by one until dst is 16-byte aligned, then 64 at a time with streaming stores (which need an
   aligned destination), then the tail. The sfence makes the stores visible before any later store (the
   message that hands the piece to a hashing thread). */
void stream_copy(uint8_t *dst, const uint8_t *src, size_t n) {
  while (n > 0 && ((uintptr_t)dst & 15) != 0) {
    *dst++ = *src++;
    n--;
  }
  for (; n >= 64; n -= 64, dst += 64, src += 64) {
    __m128i a = _mm_loadu_si128((const __m128i *)src);
    __m128i b = _mm_loadu_si128((const __m128i *)(src + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(src + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(src + 48));
    _mm_stream_si128((__m128i *)dst, a);
    _mm_stream_si128((__m128i *)(dst + 16), b);
    _mm_stream_si128((__m128i *)(dst + 32), c);
    _mm_stream_si128((__m128i *)(dst + 48), d);
  }
  _mm_sfence();
  /* A plain loop, not memcpy: the code may call nothing. */
  for (; n > 0; n--) *dst++ = *src++;
}
