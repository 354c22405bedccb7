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
 *  - simd128 / relaxed-simd: the split-nibble kernel. For V x 16 bytes of one input it computes the
 *    low and high nibbles once, then for each of up to G outputs looks both up with a byte shuffle
 *    (i8x16.swizzle, or i8x16.relaxed_swizzle, which is one pshufb/tbl since indices are < 16) and
 *    XORs them into accumulators held in registers. All outputs of a group are produced in one pass
 *    over the inputs ("fused"), and each output is stored once. When there are more outputs than
 *    fit in registers (G > 4) the work is cut into column strips small enough that the strip of
 *    every input stays in L2 while each group of outputs is computed over it ("cache-blocked").
 */
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
/*
 * The 0x0f nibble mask is read from memory (written by gf_init) rather than written as a constant:
 * V8 rebuilds a v128 constant at every use inside a loop (three instructions), but keeps a loaded
 * value in a register.
 */
static v128_t nibble_mask;
#endif

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
#if defined(__wasm_simd128__)
  nibble_mask = wasm_i8x16_splat(0x0f);
#endif
  gf_ready = 1;
}

#if defined(__wasm_simd128__)

#if defined(__wasm_relaxed_simd__)
#define LOOKUP(t, idx) wasm_i8x16_relaxed_swizzle((t), (idx))
EXPORT("variant") uint32_t variant(void) { return 2; }
#else
#define LOOKUP(t, idx) wasm_i8x16_swizzle((t), (idx))
EXPORT("variant") uint32_t variant(void) { return 1; }
#endif

/*
 * Register budget. V8 on x86-64 gives WebAssembly 15 usable xmm registers. A step of the general
 * kernel keeps G outputs x V vectors of accumulators, the 2V nibble vectors of the current input,
 * its two tables and the mask: G*V + 2V + 3 <= 15. These shapes measured best of those that fit
 * (bench/core, 1 MiB): G=4,V=2, G=2,V=3, G=1,V=8. The fixed-input kernels below work vector by
 * vector (G*V accumulators, 2G tables, 2 nibbles, mask) and run G=2 best at V=4 (FIXED_V_G2).
 * Overridable with -D for kernel experiments.
 */
#ifndef GROUP_MAX
#define GROUP_MAX 4
#endif
#ifndef V_G1
#define V_G1 8
#endif
#ifndef V_G2
#define V_G2 3
#endif
#ifndef FIXED_V_G2
#define FIXED_V_G2 4
#endif
#ifndef V_G3
#define V_G3 2
#endif
#ifndef V_G4
#define V_G4 2
#endif
#define VECS 8

static inline __attribute__((always_inline)) void mul_step(
    const v128_t* restrict tabs, uint32_t tab_stride, const uint8_t* const* in, uint32_t nin,
    uint8_t* const* out, uint32_t i, const v128_t mask, const uint32_t G, const uint32_t V) {
  v128_t acc[GROUP_MAX][VECS];
  for (uint32_t g = 0; g < G; g++)
    for (uint32_t v = 0; v < V; v++) acc[g][v] = wasm_i64x2_splat(0);
  const v128_t* t = tabs;
  for (uint32_t d = 0; d < nin; d++, t += 2) {
    v128_t lo[VECS], hi[VECS];
    for (uint32_t v = 0; v < V; v++) {
      const v128_t x = wasm_v128_load(in[d] + i + 16 * v);
      lo[v] = wasm_v128_and(x, mask);
      hi[v] = wasm_v128_and(wasm_u16x8_shr(x, 4), mask);
    }
    for (uint32_t g = 0; g < G; g++) {
      const v128_t tl = t[g * tab_stride];
      const v128_t th = t[g * tab_stride + 1];
      for (uint32_t v = 0; v < V; v++) {
        acc[g][v] = wasm_v128_xor(acc[g][v], wasm_v128_xor(LOOKUP(tl, lo[v]), LOOKUP(th, hi[v])));
      }
    }
  }
  for (uint32_t g = 0; g < G; g++)
    for (uint32_t v = 0; v < V; v++) wasm_v128_store(out[g] + i + 16 * v, acc[g][v]);
}

/*
 * Fixed-input kernels, for up to NIN_FIXED_MAX inputs: the input count, group size and step are
 * compile-time constants, and the group's tables are first copied to a static area (fixed_tabs),
 * so every table address is a constant plus the input's offset. Each vector of an input is
 * loaded, split and multiplied into all G accumulators before the next is loaded. Why it pays:
 * Deno runs WebAssembly without the guard-page trap handler, so V8 bounds-checks every load
 * from a computed address (a compare and branch each), but not the first input's tables (pure
 * constant addresses), and the per-vector order keeps live values within the 15 registers. On
 * bench/core (1 MiB, relaxed SIMD, this machine's quiet phases) it ran 4+2 encode at 12.6 GB/s
 * against 10.2 for the general kernel, 8+4 encode 6.3 against 5.7, 12+4 6.4 against 6.0, and the
 * 2-shard reconstruct of 8+4 at 12.0 against 11.0.
 */
#ifndef NIN_FIXED_MAX
#define NIN_FIXED_MAX 16
#endif
static v128_t fixed_tabs[GROUP_MAX * NIN_FIXED_MAX * 2];

static inline __attribute__((always_inline)) void fixed_step(
    const uint8_t* const* in, uint8_t* const* out, uint32_t i, const v128_t mask,
    const uint32_t G, const uint32_t N, const uint32_t V) {
  v128_t acc[GROUP_MAX][VECS];
  for (uint32_t d = 0; d < N; d++) {
    const uint8_t* src = in[d] + i;
    for (uint32_t v = 0; v < V; v++) {
      const v128_t x = wasm_v128_load(src + 16 * v);
      const v128_t lo = wasm_v128_and(x, mask);
      const v128_t hi = wasm_v128_and(wasm_u16x8_shr(x, 4), mask);
      for (uint32_t g = 0; g < G; g++) {
        const v128_t p = wasm_v128_xor(LOOKUP(fixed_tabs[(g * N + d) * 2], lo),
                                       LOOKUP(fixed_tabs[(g * N + d) * 2 + 1], hi));
        acc[g][v] = d == 0 ? p : wasm_v128_xor(acc[g][v], p);
      }
      /*
       * A compiler barrier (it emits nothing): without it LLVM hoists the loads of later
       * vectors and inputs above this vector's arithmetic, and V8, which schedules in the
       * order it is given, then holds them all at once and spills to the stack.
       */
      __asm__ volatile("" ::: "memory");
    }
  }
  for (uint32_t g = 0; g < G; g++)
    for (uint32_t v = 0; v < V; v++) wasm_v128_store(out[g] + i + 16 * v, acc[g][v]);
}

/* Runs [from, to) in whole steps of 16*V bytes; returns where it stopped. */
static inline __attribute__((always_inline)) uint32_t fixed_run(
    const uint8_t* const* in, uint8_t* const* out, uint32_t from, uint32_t to, const uint32_t G,
    const uint32_t N) {
  const v128_t mask = wasm_v128_load(&nibble_mask);
  const uint32_t V = G == 1 ? V_G1 : G == 2 ? FIXED_V_G2 : G == 3 ? V_G3 : V_G4;
  const uint8_t* ins[NIN_FIXED_MAX];
  uint8_t* outs[GROUP_MAX];
  for (uint32_t d = 0; d < N; d++) ins[d] = in[d];
  for (uint32_t g = 0; g < G; g++) outs[g] = out[g];
  uint32_t i = from;
  for (; i + 16 * V <= to; i += 16 * V) fixed_step(ins, outs, i, mask, G, N, V);
  return i;
}

typedef uint32_t (*fixed_fn)(const uint8_t* const*, uint8_t* const*, uint32_t, uint32_t);
#define FIXED_FN(G, N)                                                                        \
  static uint32_t fixed_##G##_##N(const uint8_t* const* in, uint8_t* const* out, uint32_t from, \
                                  uint32_t to) {                                              \
    return fixed_run(in, out, from, to, G, N);                                                \
  }
#define FIXED_ROW(N) FIXED_FN(1, N) FIXED_FN(2, N) FIXED_FN(3, N) FIXED_FN(4, N)
FIXED_ROW(1) FIXED_ROW(2) FIXED_ROW(3) FIXED_ROW(4) FIXED_ROW(5) FIXED_ROW(6) FIXED_ROW(7)
FIXED_ROW(8) FIXED_ROW(9) FIXED_ROW(10) FIXED_ROW(11) FIXED_ROW(12) FIXED_ROW(13) FIXED_ROW(14)
FIXED_ROW(15) FIXED_ROW(16)
#define FIXED_REF(N) {fixed_1_##N, fixed_2_##N, fixed_3_##N, fixed_4_##N}
static const fixed_fn fixed_kernels[NIN_FIXED_MAX][GROUP_MAX] = {
    FIXED_REF(1),  FIXED_REF(2),  FIXED_REF(3),  FIXED_REF(4),  FIXED_REF(5),  FIXED_REF(6),
    FIXED_REF(7),  FIXED_REF(8),  FIXED_REF(9),  FIXED_REF(10), FIXED_REF(11), FIXED_REF(12),
    FIXED_REF(13), FIXED_REF(14), FIXED_REF(15), FIXED_REF(16)};

static inline __attribute__((always_inline)) void mul_group(
    const v128_t* restrict tabs, uint32_t tab_stride, const uint8_t* const* in, uint32_t nin,
    uint8_t* const* out, uint32_t from, uint32_t to, const uint32_t G) {
  const v128_t mask = wasm_v128_load(&nibble_mask);
  const uint32_t V = G == 1 ? V_G1 : G == 2 ? V_G2 : G == 3 ? V_G3 : V_G4;
  uint32_t i = from;
  if (nin <= NIN_FIXED_MAX) {
    for (uint32_t g = 0; g < G; g++)
      for (uint32_t d = 0; d < nin; d++) {
        fixed_tabs[(g * nin + d) * 2] = tabs[g * tab_stride + d * 2];
        fixed_tabs[(g * nin + d) * 2 + 1] = tabs[g * tab_stride + d * 2 + 1];
      }
    i = fixed_kernels[nin - 1][G - 1](in, out, from, to);
  }
  for (; i + 16 * V <= to; i += 16 * V) mul_step(tabs, tab_stride, in, nin, out, i, mask, G, V);
  for (; i + 16 <= to; i += 16) mul_step(tabs, tab_stride, in, nin, out, i, mask, G, 1);
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
      if (GROUP_MAX >= 4 && left >= 4 && left != 5 && left != 6) {
        mul_g4(t, stride, in, nin, out + p, from, to);
        p += 4;
      } else if (GROUP_MAX >= 3 && (left == 3 || left == 6 || (GROUP_MAX == 3 && left > 3))) {
        mul_g3(t, stride, in, nin, out + p, from, to);
        p += 3;
      } else if (left >= 2) {
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
