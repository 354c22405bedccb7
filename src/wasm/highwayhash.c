/*
 * HighwayHash (Alakuijala, Cox, Wassenberg), keyed with 256 bits, 64/128/256-bit output, as
 * github.com/google/highwayhash and github.com/minio/highwayhash define it. Written from the
 * algorithm's description; checked against vectors produced by minio/highwayhash.
 *
 * State (128 bytes, little-endian u64 lanes): v0[4], v1[4], mul0[4], mul1[4]. The loader keeps a
 * streaming hasher's state in JS and copies it in and out of `hh_state` around each call, so no
 * per-hasher memory lives in WebAssembly.
 *
 * The SIMD builds hold each group of four lanes in two v128 (lanes 0-1 and 2-3); the 32x32->64
 * multiplies use i64x2.extmul of the even 32-bit lanes and the zipper merge is one byte shuffle.
 */
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))

typedef struct {
  uint64_t v0[4];
  uint64_t v1[4];
  uint64_t mul0[4];
  uint64_t mul1[4];
} hh_state_t;

static hh_state_t hh_state;
static uint8_t hh_out[32];

EXPORT("hh_state_ptr") uint32_t hh_state_ptr(void) { return (uint32_t)(uintptr_t)&hh_state; }
EXPORT("hh_out_ptr") uint32_t hh_out_ptr(void) { return (uint32_t)(uintptr_t)hh_out; }

static inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  __builtin_memcpy(&v, p, 8); /* wasm is little-endian, as the algorithm's lanes are */
  return v;
}

static inline uint64_t rot32(uint64_t x) { return (x >> 32) | (x << 32); }

static void init_simd(void);

EXPORT("hh_reset") void hh_reset(const uint8_t* key) {
  hh_state_t* s = &hh_state;
  init_simd();
  s->mul0[0] = 0xdbe6d5d5fe4cce2full;
  s->mul0[1] = 0xa4093822299f31d0ull;
  s->mul0[2] = 0x13198a2e03707344ull;
  s->mul0[3] = 0x243f6a8885a308d3ull;
  s->mul1[0] = 0x3bd39e10cb0ef593ull;
  s->mul1[1] = 0xc0acf169b5f18a8cull;
  s->mul1[2] = 0xbe5466cf34e90c6cull;
  s->mul1[3] = 0x452821e638d01377ull;
  for (int i = 0; i < 4; i++) {
    const uint64_t k = load64(key + 8 * i);
    s->v0[i] = s->mul0[i] ^ k;
    s->v1[i] = s->mul1[i] ^ rot32(k);
  }
}

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

typedef struct {
  v128_t v0a, v0b, v1a, v1b, m0a, m0b, m1a, m1b;
} hh_vec_t;

static inline hh_vec_t vec_load(const hh_state_t* s) {
  hh_vec_t r;
  r.v0a = wasm_v128_load(&s->v0[0]);
  r.v0b = wasm_v128_load(&s->v0[2]);
  r.v1a = wasm_v128_load(&s->v1[0]);
  r.v1b = wasm_v128_load(&s->v1[2]);
  r.m0a = wasm_v128_load(&s->mul0[0]);
  r.m0b = wasm_v128_load(&s->mul0[2]);
  r.m1a = wasm_v128_load(&s->mul1[0]);
  r.m1b = wasm_v128_load(&s->mul1[2]);
  return r;
}

static inline void vec_store(hh_state_t* s, const hh_vec_t* r) {
  wasm_v128_store(&s->v0[0], r->v0a);
  wasm_v128_store(&s->v0[2], r->v0b);
  wasm_v128_store(&s->v1[0], r->v1a);
  wasm_v128_store(&s->v1[2], r->v1b);
  wasm_v128_store(&s->mul0[0], r->m0a);
  wasm_v128_store(&s->mul0[2], r->m0b);
  wasm_v128_store(&s->mul1[0], r->m1a);
  wasm_v128_store(&s->mul1[2], r->m1b);
}

#if defined(__wasm_relaxed_simd__)
#define SWIZZLE(v, idx) wasm_i8x16_relaxed_swizzle((v), (idx))
#else
#define SWIZZLE(v, idx) wasm_i8x16_swizzle((v), (idx))
#endif

/*
 * The zipper merge of one pair of lanes (v1, v0) is a byte permutation of the 16 bytes
 * [v0 (bytes 0-7), v1 (bytes 8-15)]: the result's low 8 bytes are added to lane 0, high to lane 1.
 * The permutation is read from memory (written by hh_reset) rather than written as a constant:
 * V8 rebuilds a v128 constant at every use inside a loop, but keeps a loaded value in a register.
 */
static v128_t zipper_index;

static inline void vec_update(hh_vec_t* r, v128_t la, v128_t lb, v128_t zi) {
  r->v1a = wasm_i64x2_add(r->v1a, wasm_i64x2_add(r->m0a, la));
  r->v1b = wasm_i64x2_add(r->v1b, wasm_i64x2_add(r->m0b, lb));
  /* mul0 ^= (v1 & 0xffffffff) * (v0 >> 32): gather the four low halves of v1 and the four high
   * halves of v0 once, then one widening multiply per pair of lanes. */
  const v128_t a1 = wasm_i32x4_shuffle(r->v1a, r->v1b, 0, 2, 4, 6);
  const v128_t b1 = wasm_i32x4_shuffle(r->v0a, r->v0b, 1, 3, 5, 7);
  r->m0a = wasm_v128_xor(r->m0a, wasm_u64x2_extmul_low_u32x4(a1, b1));
  r->m0b = wasm_v128_xor(r->m0b, wasm_u64x2_extmul_high_u32x4(a1, b1));
  r->v0a = wasm_i64x2_add(r->v0a, r->m1a);
  r->v0b = wasm_i64x2_add(r->v0b, r->m1b);
  /* mul1 ^= (v0 & 0xffffffff) * (v1 >> 32) */
  const v128_t a0 = wasm_i32x4_shuffle(r->v0a, r->v0b, 0, 2, 4, 6);
  const v128_t b0 = wasm_i32x4_shuffle(r->v1a, r->v1b, 1, 3, 5, 7);
  r->m1a = wasm_v128_xor(r->m1a, wasm_u64x2_extmul_low_u32x4(a0, b0));
  r->m1b = wasm_v128_xor(r->m1b, wasm_u64x2_extmul_high_u32x4(a0, b0));
  r->v0a = wasm_i64x2_add(r->v0a, SWIZZLE(r->v1a, zi));
  r->v0b = wasm_i64x2_add(r->v0b, SWIZZLE(r->v1b, zi));
  r->v1a = wasm_i64x2_add(r->v1a, SWIZZLE(r->v0a, zi));
  r->v1b = wasm_i64x2_add(r->v1b, SWIZZLE(r->v0b, zi));
}

static void update_packets(hh_state_t* s, const uint8_t* p, uint32_t n) {
  hh_vec_t r = vec_load(s);
  const v128_t zi = wasm_v128_load(&zipper_index);
  for (uint32_t i = 0; i < n; i++, p += 32) {
    vec_update(&r, wasm_v128_load(p), wasm_v128_load(p + 16), zi);
  }
  vec_store(s, &r);
}

static void init_simd(void) {
  zipper_index = wasm_i8x16_make(3, 12, 2, 5, 14, 1, 15, 0, 11, 4, 10, 13, 9, 6, 8, 7);
}

#else /* scalar */

static inline void zipper_merge_add(uint64_t v1, uint64_t v0, uint64_t* add1, uint64_t* add0) {
  *add0 += (((v0 & 0xff000000ull) | (v1 & 0xff00000000ull)) >> 24) |
           (((v0 & 0xff0000000000ull) | (v1 & 0xff000000000000ull)) >> 16) |
           (v0 & 0xff0000ull) | ((v0 & 0xff00ull) << 32) |
           ((v1 & 0xff00000000000000ull) >> 8) | (v0 << 56);
  *add1 += (((v1 & 0xff000000ull) | (v0 & 0xff00000000ull)) >> 24) | (v1 & 0xff0000ull) |
           ((v1 & 0xff0000000000ull) >> 16) | ((v1 & 0xff00ull) << 24) |
           ((v0 & 0xff000000000000ull) >> 8) | ((v1 & 0xffull) << 48) |
           (v0 & 0xff00000000000000ull);
}

static inline void update_lanes(hh_state_t* s, const uint64_t lanes[4]) {
  for (int i = 0; i < 4; i++) {
    s->v1[i] += s->mul0[i] + lanes[i];
    s->mul0[i] ^= (s->v1[i] & 0xffffffffull) * (s->v0[i] >> 32);
    s->v0[i] += s->mul1[i];
    s->mul1[i] ^= (s->v0[i] & 0xffffffffull) * (s->v1[i] >> 32);
  }
  zipper_merge_add(s->v1[1], s->v1[0], &s->v0[1], &s->v0[0]);
  zipper_merge_add(s->v1[3], s->v1[2], &s->v0[3], &s->v0[2]);
  zipper_merge_add(s->v0[1], s->v0[0], &s->v1[1], &s->v1[0]);
  zipper_merge_add(s->v0[3], s->v0[2], &s->v1[3], &s->v1[2]);
}

static void update_packets(hh_state_t* s, const uint8_t* p, uint32_t n) {
  hh_state_t st = *s;
  for (uint32_t i = 0; i < n; i++, p += 32) {
    const uint64_t lanes[4] = {load64(p), load64(p + 8), load64(p + 16), load64(p + 24)};
    update_lanes(&st, lanes);
  }
  *s = st;
}

#endif

static void update_packet(hh_state_t* s, const uint8_t* p) { update_packets(s, p, 1); }

#if !defined(__wasm_simd128__)
static void init_simd(void) {}
#endif

/* Absorbs len bytes; len must be a multiple of 32 (the loader buffers partial packets). */
EXPORT("hh_update") void hh_update(const uint8_t* data, uint32_t len) {
  update_packets(&hh_state, data, len >> 5);
}

static void update_remainder(hh_state_t* s, const uint8_t* bytes, uint32_t size_mod32) {
  const uint32_t size_mod4 = size_mod32 & 3;
  const uint8_t* remainder = bytes + (size_mod32 & ~3u);
  uint8_t packet[32];
  for (int i = 0; i < 32; i++) packet[i] = 0;
  for (int i = 0; i < 4; i++) {
    s->v0[i] += ((uint64_t)size_mod32 << 32) + size_mod32;
  }
  for (int i = 0; i < 4; i++) {
    const uint32_t lo = (uint32_t)s->v1[i];
    const uint32_t hi = (uint32_t)(s->v1[i] >> 32);
    const uint32_t c = size_mod32;
    const uint32_t rlo = (lo << c) | (lo >> (32 - c));
    const uint32_t rhi = (hi << c) | (hi >> (32 - c));
    s->v1[i] = (uint64_t)rlo | ((uint64_t)rhi << 32);
  }
  for (uint32_t i = 0; i < (uint32_t)(remainder - bytes); i++) packet[i] = bytes[i];
  if (size_mod32 & 16) {
    for (uint32_t i = 0; i < 4; i++) packet[28 + i] = remainder[i + size_mod4 - 4];
  } else if (size_mod4) {
    packet[16] = remainder[0];
    packet[17] = remainder[size_mod4 >> 1];
    packet[18] = remainder[size_mod4 - 1];
  }
  update_packet(s, packet);
}

static void permute_and_update(hh_state_t* s) {
  uint8_t packet[32];
  const uint64_t p[4] = {rot32(s->v0[2]), rot32(s->v0[3]), rot32(s->v0[0]), rot32(s->v0[1])};
  __builtin_memcpy(packet, p, 32);
  update_packet(s, packet);
}

static void modular_reduction(uint64_t a3_unmasked, uint64_t a2, uint64_t a1, uint64_t a0,
                              uint64_t* m1, uint64_t* m0) {
  const uint64_t a3 = a3_unmasked & 0x3fffffffffffffffull;
  *m1 = a1 ^ ((a3 << 1) | (a2 >> 63)) ^ ((a3 << 2) | (a2 >> 62));
  *m0 = a0 ^ (a2 << 1) ^ (a2 << 2);
}

/*
 * Absorbs the final rem (< 32) bytes at data, finalizes, and writes bits/8 bytes to hh_out
 * (little-endian u64 words, as minio/highwayhash's Sum).
 */
EXPORT("hh_finish") void hh_finish(const uint8_t* data, uint32_t rem, uint32_t bits) {
  hh_state_t* s = &hh_state;
  if (rem != 0) update_remainder(s, data, rem);
  uint64_t h[4];
  if (bits == 64) {
    for (int i = 0; i < 4; i++) permute_and_update(s);
    h[0] = s->v0[0] + s->v1[0] + s->mul0[0] + s->mul1[0];
    __builtin_memcpy(hh_out, h, 8);
  } else if (bits == 128) {
    for (int i = 0; i < 6; i++) permute_and_update(s);
    h[0] = s->v0[0] + s->mul0[0] + s->v1[2] + s->mul1[2];
    h[1] = s->v0[1] + s->mul0[1] + s->v1[3] + s->mul1[3];
    __builtin_memcpy(hh_out, h, 16);
  } else {
    for (int i = 0; i < 10; i++) permute_and_update(s);
    modular_reduction(s->v1[1] + s->mul1[1], s->v1[0] + s->mul1[0], s->v0[1] + s->mul0[1],
                      s->v0[0] + s->mul0[0], &h[1], &h[0]);
    modular_reduction(s->v1[3] + s->mul1[3], s->v1[2] + s->mul1[2], s->v0[3] + s->mul0[3],
                      s->v0[2] + s->mul0[2], &h[3], &h[2]);
    __builtin_memcpy(hh_out, h, 32);
  }
}
