/*
 * Reed-Solomon over GF(2^8) (polynomial 0x11d): the byte kernels only.
 *
 * How this works: the TypeScript loader builds the coding matrix (klauspost/reedsolomon's default
 * systematic Vandermonde matrix) and, for every call, hands this file a small coefficient matrix
 * `coefs` (nout rows x nin columns) together with, per coefficient, two 16-byte tables: the products
 * of the coefficient with every low nibble 0..15 and with every high nibble 0x00..0xf0. Then
 *
 *     out[p][i] = XOR over d of coefs[p][d] * in[d][i]     for i in [0, len)
 *
 * Encode, reconstruct and verify are all that one operation with different matrices.
 *
 * Three builds come from this one file:
 *  - scalar  (no SIMD): one lookup in a 64 KiB full product table per byte and coefficient. It is
 *    the reference the tests compare the other builds with, and it reads `coefs`, not the nibble
 *    tables, so a wrong nibble table cannot hide in both.
 *  - simd128 / relaxed-simd: the split-nibble kernel. For 32 bytes of one input it computes the low
 *    and high nibbles once, then for each of up to G outputs looks both up with a byte shuffle
 *    (i8x16.swizzle, or i8x16.relaxed_swizzle, which is one pshufb/tbl since indices are < 16) and
 *    XORs them into accumulators held in registers. All outputs of a group are produced in one pass
 *    over the inputs ("fused"), and each output is stored once. When there are more outputs than
 *    fit in registers the work is cut into column strips small enough that the strip of every
 *    input stays in L1/L2 while each group of outputs is computed over it ("cache-blocked").
 */
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))

static uint8_t gf_exp[512];
static uint8_t gf_log[256];
static uint8_t gf_mul_table[256 * 256];
static int gf_ready = 0;

EXPORT("gf_init") void gf_init(void) {
  if (gf_ready) return;
  uint32_t x = 1;
  for (uint32_t i = 0; i < 255; i++) {
    gf_exp[i] = (uint8_t)x;
    gf_exp[i + 255] = (uint8_t)x;
    gf_log[x] = (uint8_t)i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  gf_exp[510] = gf_exp[0];
  gf_exp[511] = gf_exp[1];
  gf_log[0] = 0;
  for (uint32_t a = 0; a < 256; a++) {
    for (uint32_t b = 0; b < 256; b++) {
      gf_mul_table[a * 256 + b] =
          (a == 0 || b == 0) ? 0 : gf_exp[(uint32_t)gf_log[a] + (uint32_t)gf_log[b]];
    }
  }
  gf_ready = 1;
}

/* The 256x256 product table, for the loader's matrix arithmetic and table building. */
EXPORT("gf_mul_table_ptr") uint32_t gf_mul_table_ptr(void) {
  return (uint32_t)(uintptr_t)gf_mul_table;
}

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#if defined(__wasm_relaxed_simd__)
#define LOOKUP(t, idx) wasm_i8x16_relaxed_swizzle((t), (idx))
EXPORT("variant") uint32_t variant(void) { return 2; }
#else
#define LOOKUP(t, idx) wasm_i8x16_swizzle((t), (idx))
EXPORT("variant") uint32_t variant(void) { return 1; }
#endif

/* Output group sizes. Each output keeps two 16-byte accumulators. */
#define GROUP_MAX 4

static inline __attribute__((always_inline)) void mul_group(
    const v128_t* restrict tabs, uint32_t tab_stride, const uint8_t* const* in, uint32_t nin,
    uint8_t* const* out, uint32_t from, uint32_t to, const uint32_t G) {
  const v128_t mask = wasm_i8x16_splat(0x0f);
  uint32_t i = from;
  for (; i + 32 <= to; i += 32) {
    v128_t acc0[GROUP_MAX], acc1[GROUP_MAX];
    for (uint32_t g = 0; g < G; g++) {
      acc0[g] = wasm_i64x2_splat(0);
      acc1[g] = wasm_i64x2_splat(0);
    }
    const v128_t* t = tabs;
    for (uint32_t d = 0; d < nin; d++, t += 2) {
      const v128_t x0 = wasm_v128_load(in[d] + i);
      const v128_t x1 = wasm_v128_load(in[d] + i + 16);
      const v128_t l0 = wasm_v128_and(x0, mask);
      const v128_t l1 = wasm_v128_and(x1, mask);
      const v128_t h0 = wasm_v128_and(wasm_u16x8_shr(x0, 4), mask);
      const v128_t h1 = wasm_v128_and(wasm_u16x8_shr(x1, 4), mask);
      for (uint32_t g = 0; g < G; g++) {
        const v128_t tl = t[g * tab_stride];
        const v128_t th = t[g * tab_stride + 1];
        acc0[g] = wasm_v128_xor(acc0[g], wasm_v128_xor(LOOKUP(tl, l0), LOOKUP(th, h0)));
        acc1[g] = wasm_v128_xor(acc1[g], wasm_v128_xor(LOOKUP(tl, l1), LOOKUP(th, h1)));
      }
    }
    for (uint32_t g = 0; g < G; g++) {
      wasm_v128_store(out[g] + i, acc0[g]);
      wasm_v128_store(out[g] + i + 16, acc1[g]);
    }
  }
  for (; i + 16 <= to; i += 16) {
    v128_t acc0[GROUP_MAX];
    for (uint32_t g = 0; g < G; g++) acc0[g] = wasm_i64x2_splat(0);
    const v128_t* t = tabs;
    for (uint32_t d = 0; d < nin; d++, t += 2) {
      const v128_t x0 = wasm_v128_load(in[d] + i);
      const v128_t l0 = wasm_v128_and(x0, mask);
      const v128_t h0 = wasm_v128_and(wasm_u16x8_shr(x0, 4), mask);
      for (uint32_t g = 0; g < G; g++) {
        acc0[g] = wasm_v128_xor(acc0[g], wasm_v128_xor(LOOKUP(t[g * tab_stride], l0),
                                                       LOOKUP(t[g * tab_stride + 1], h0)));
      }
    }
    for (uint32_t g = 0; g < G; g++) wasm_v128_store(out[g] + i, acc0[g]);
  }
  for (; i < to; i++) {
    for (uint32_t g = 0; g < G; g++) {
      const uint8_t* tb = (const uint8_t*)(tabs + g * tab_stride);
      uint8_t acc = 0;
      for (uint32_t d = 0; d < nin; d++, tb += 32) {
        const uint8_t x = in[d][i];
        acc ^= (uint8_t)(tb[x & 15] ^ tb[16 + (x >> 4)]);
      }
      out[g][i] = acc;
    }
  }
}

static void mul_g1(const v128_t* t, uint32_t s, const uint8_t* const* in, uint32_t nin,
                   uint8_t* const* out, uint32_t from, uint32_t to) {
  mul_group(t, s, in, nin, out, from, to, 1);
}
static void mul_g2(const v128_t* t, uint32_t s, const uint8_t* const* in, uint32_t nin,
                   uint8_t* const* out, uint32_t from, uint32_t to) {
  mul_group(t, s, in, nin, out, from, to, 2);
}
static void mul_g3(const v128_t* t, uint32_t s, const uint8_t* const* in, uint32_t nin,
                   uint8_t* const* out, uint32_t from, uint32_t to) {
  mul_group(t, s, in, nin, out, from, to, 3);
}
static void mul_g4(const v128_t* t, uint32_t s, const uint8_t* const* in, uint32_t nin,
                   uint8_t* const* out, uint32_t from, uint32_t to) {
  mul_group(t, s, in, nin, out, from, to, 4);
}

/* Bytes of all inputs' strips kept hot while every output group runs over them. */
#define STRIP_BUDGET_BYTES (128 * 1024)

static void mul_rows(const uint8_t* coefs, const uint8_t* tables, const uint8_t* const* in,
                     uint32_t nin, uint8_t* const* out, uint32_t nout, uint32_t len) {
  (void)coefs;
  const v128_t* tabs = (const v128_t*)tables;
  const uint32_t stride = nin * 2; /* v128s between the tables of two outputs */
  uint32_t strip = len;
  if (nout > GROUP_MAX) {
    strip = (STRIP_BUDGET_BYTES / nin) & ~31u;
    if (strip < 512) strip = 512;
  }
  for (uint32_t from = 0; from < len; from += strip) {
    const uint32_t to = (len - from < strip) ? len : from + strip;
    uint32_t p = 0;
    while (p < nout) {
      const uint32_t left = nout - p;
      const v128_t* t = tabs + p * stride;
      if (left >= 4 && left != 5 && left != 6) {
        mul_g4(t, stride, in, nin, out + p, from, to);
        p += 4;
      } else if (left == 3 || left == 6) {
        mul_g3(t, stride, in, nin, out + p, from, to);
        p += 3;
      } else if (left == 2 || left == 5) {
        mul_g2(t, stride, in, nin, out + p, from, to);
        p += 2;
      } else {
        mul_g1(t, stride, in, nin, out + p, from, to);
        p += 1;
      }
    }
  }
}

#else /* scalar */

EXPORT("variant") uint32_t variant(void) { return 0; }

static void mul_rows(const uint8_t* coefs, const uint8_t* tables, const uint8_t* const* in,
                     uint32_t nin, uint8_t* const* out, uint32_t nout, uint32_t len) {
  (void)tables;
  for (uint32_t p = 0; p < nout; p++) {
    uint8_t* o = out[p];
    for (uint32_t d = 0; d < nin; d++) {
      const uint8_t* row = gf_mul_table + 256u * coefs[p * nin + d];
      const uint8_t* x = in[d];
      if (d == 0) {
        for (uint32_t i = 0; i < len; i++) o[i] = row[x[i]];
      } else {
        for (uint32_t i = 0; i < len; i++) o[i] ^= row[x[i]];
      }
    }
  }
}

#endif

/* out[p] = sum over d of coefs[p][d] * in[d], for nout outputs over len bytes. nin >= 1. */
EXPORT("rs_mul")
void rs_mul(const uint8_t* coefs, const uint8_t* tables, const uint8_t* const* in, uint32_t nin,
            uint8_t* const* out, uint32_t nout, uint32_t len) {
  if (nout == 0 || len == 0) return;
  mul_rows(coefs, tables, in, nin, out, nout, len);
}

/*
 * Returns 1 when every par[p] equals sum over d of coefs[p][d] * in[d]. Works through column
 * chunks of `chunk` bytes into `scratch` (nout * chunk bytes) so no memory is needed per call.
 */
EXPORT("rs_verify")
uint32_t rs_verify(const uint8_t* coefs, const uint8_t* tables, const uint8_t* const* in,
                   uint32_t nin, const uint8_t* const* par, uint32_t nout, uint32_t len,
                   uint8_t* scratch, uint32_t chunk) {
  if (nout == 0) return 1;
  const uint8_t* ins[256];
  uint8_t* outs[256];
  for (uint32_t p = 0; p < nout; p++) outs[p] = scratch + p * chunk;
  for (uint32_t off = 0; off < len; off += chunk) {
    const uint32_t n = (len - off < chunk) ? len - off : chunk;
    for (uint32_t d = 0; d < nin; d++) ins[d] = in[d] + off;
    mul_rows(coefs, tables, ins, nin, outs, nout, n);
    for (uint32_t p = 0; p < nout; p++) {
      const uint8_t* a = outs[p];
      const uint8_t* b = par[p] + off;
      uint8_t diff = 0;
      for (uint32_t i = 0; i < n; i++) diff |= (uint8_t)(a[i] ^ b[i]);
      if (diff) return 0;
    }
  }
  return 1;
}
