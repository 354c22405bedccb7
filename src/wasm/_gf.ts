/**
 * GF(2^8) arithmetic (polynomial 0x11d, generator 2) and the coding matrices of
 * klauspost/reedsolomon's default encoder, in plain TypeScript: they are small and computed once
 * per geometry or erasure pattern; the byte kernels are in rs.c.
 */

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    EXP[i + 255] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
}

/** a * b in GF(2^8). */
export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

/** a^n as klauspost's galExp: a^0 is 1 even for a = 0. */
export function gfExp(a: number, n: number): number {
  if (n === 0) return 1;
  if (a === 0) return 0;
  return EXP[(LOG[a]! * n) % 255]!;
}

/** A row-major matrix over GF(2^8). */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Uint8Array;
}

function matrix(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Uint8Array(rows * cols) };
}

/** a x b. */
export function matMul(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new RangeError(`Matrix shapes do not match: ${a.cols} vs ${b.rows}`);
  const r = matrix(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.cols; j++) {
      let acc = 0;
      for (let t = 0; t < a.cols; t++) {
        acc ^= gfMul(a.data[i * a.cols + t]!, b.data[t * b.cols + j]!);
      }
      r.data[i * b.cols + j] = acc;
    }
  }
  return r;
}

/** The matrix made of the given rows of m, in that order. */
export function selectRows(m: Matrix, rows: readonly number[]): Matrix {
  const r = matrix(rows.length, m.cols);
  rows.forEach((row, i) => {
    r.data.set(m.data.subarray(row * m.cols, (row + 1) * m.cols), i * m.cols);
  });
  return r;
}

/** The inverse of a square matrix by Gauss-Jordan elimination; throws RangeError when singular. */
export function matInvert(m: Matrix): Matrix {
  const n = m.rows;
  if (m.cols !== n) throw new RangeError(`Only square matrices invert, got ${m.rows}x${m.cols}`);
  const w = 2 * n;
  const a = new Uint8Array(n * w);
  for (let i = 0; i < n; i++) {
    a.set(m.data.subarray(i * n, (i + 1) * n), i * w);
    a[i * w + n + i] = 1;
  }
  for (let c = 0; c < n; c++) {
    let pivot = c;
    while (pivot < n && a[pivot * w + c] === 0) pivot++;
    if (pivot === n) throw new RangeError("Matrix is singular");
    if (pivot !== c) {
      const tmp = a.slice(c * w, (c + 1) * w);
      a.copyWithin(c * w, pivot * w, (pivot + 1) * w);
      a.set(tmp, pivot * w);
    }
    const p = a[c * w + c]!;
    if (p !== 1) {
      const inv = EXP[255 - LOG[p]!]!;
      for (let j = 0; j < w; j++) a[c * w + j] = gfMul(a[c * w + j]!, inv);
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * w + c]!;
      if (f === 0) continue;
      for (let j = 0; j < w; j++) a[r * w + j]! ^= gfMul(f, a[c * w + j]!);
    }
  }
  const r = matrix(n, n);
  for (let i = 0; i < n; i++) r.data.set(a.subarray(i * w + n, (i + 1) * w), i * n);
  return r;
}

/**
 * klauspost/reedsolomon's default (buildMatrix): the total x k Vandermonde matrix of r^c,
 * multiplied by the inverse of its top k x k square, so the top is the identity (systematic) and
 * any k rows stay invertible.
 */
export function buildEncodingMatrix(dataShards: number, totalShards: number): Matrix {
  const vm = matrix(totalShards, dataShards);
  for (let r = 0; r < totalShards; r++) {
    for (let c = 0; c < dataShards; c++) vm.data[r * dataShards + c] = gfExp(r, c);
  }
  const top = selectRows(vm, Array.from({ length: dataShards }, (_, i) => i));
  return matMul(vm, matInvert(top));
}

/**
 * For each coefficient, 32 bytes: c * (0..15) then c * (0x00, 0x10, .., 0xf0), the tables of the
 * split-nibble kernels in rs.c.
 */
export function nibbleTables(coefs: Uint8Array): Uint8Array {
  const t = new Uint8Array(coefs.length * 32);
  for (let i = 0; i < coefs.length; i++) {
    const c = coefs[i]!;
    for (let n = 0; n < 16; n++) {
      t[i * 32 + n] = gfMul(c, n);
      t[i * 32 + 16 + n] = gfMul(c, n << 4);
    }
  }
  return t;
}
