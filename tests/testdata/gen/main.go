// Command gen writes the known-answer vectors that src/wasm/ tests read: Reed-Solomon parity and
// reconstruction from klauspost/reedsolomon (default options) and HighwayHash-64/128/256 from
// minio/highwayhash. Run from this folder: `go run . ..` (writes ../rs_vectors.json and
// ../hh_vectors.json). Inputs are deterministic (math/rand/v2 PCG, fixed seeds).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/klauspost/reedsolomon"
	"github.com/minio/highwayhash"
)

type rsCase struct {
	Data      int    `json:"data"`
	Parity    int    `json:"parity"`
	ShardSize int    `json:"shardSize"`
	Shards    string `json:"shards"` // base64 of all k+m shards concatenated, parity included
	// Erasures: shard indices removed before klauspost's Reconstruct restored them all.
	Erasures []int `json:"erasures"`
	// EncodingMatrix: row-major total x k (klauspost buildMatrix), for the first cases only.
	Matrix string `json:"matrix,omitempty"`
}

type hhCase struct {
	Key  string `json:"key"`
	Data string `json:"data"` // base64
	H64  string `json:"h64"`  // hex of New64().Sum(nil)
	H128 string `json:"h128"`
	H256 string `json:"h256"`
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func rsVectors() []rsCase {
	r := rand.New(rand.NewPCG(3, 0x5ea1e))
	geoms := [][3]int{ // k, m, shard size
		{1, 0, 5}, {1, 1, 17}, {2, 1, 33}, {2, 2, 64}, {3, 2, 7}, {4, 0, 9}, {4, 2, 100},
		{4, 2, 1}, {5, 3, 31}, {6, 3, 129}, {7, 5, 45}, {8, 4, 1000}, {8, 4, 33}, {10, 4, 77},
		{12, 4, 257}, {12, 4, 4099}, {14, 2, 63}, {16, 4, 19}, {15, 1, 16}, {3, 13, 11},
		{1, 255, 3}, {255, 1, 3}, {128, 128, 5}, {200, 56, 2}, {100, 100, 1}, {2, 254, 2},
	}
	var out []rsCase
	for ci, g := range geoms {
		k, m, size := g[0], g[1], g[2]
		enc, err := reedsolomon.New(k, m)
		must(err)
		shards := make([][]byte, k+m)
		for i := range shards {
			if i < k {
				shards[i] = randBytes(r, size)
			} else {
				shards[i] = make([]byte, size)
			}
		}
		must(enc.Encode(shards))
		ok, err := enc.Verify(shards)
		must(err)
		if !ok {
			panic("verify failed")
		}
		var all []byte
		for _, s := range shards {
			all = append(all, s...)
		}
		// Erase up to m shards at random and check klauspost restores them.
		erase := r.IntN(m + 1)
		perm := r.Perm(k + m)[:erase]
		damaged := make([][]byte, k+m)
		copy(damaged, shards)
		for _, i := range perm {
			damaged[i] = nil
		}
		must(enc.Reconstruct(damaged))
		for i := range shards {
			if !bytes.Equal(damaged[i], shards[i]) {
				panic(fmt.Sprintf("reconstruct differs at shard %d", i))
			}
		}
		c := rsCase{Data: k, Parity: m, ShardSize: size,
			Shards: base64.StdEncoding.EncodeToString(all), Erasures: append([]int{}, perm...)}
		if ci < 16 {
			// The coding matrix, through klauspost: encode unit vectors, one data shard at a time.
			mat := make([]byte, (k+m)*k)
			for c2 := 0; c2 < k; c2++ {
				unit := make([][]byte, k+m)
				for i := range unit {
					unit[i] = make([]byte, 1)
				}
				unit[c2][0] = 1
				must(enc.Encode(unit))
				for row := 0; row < k+m; row++ {
					mat[row*k+c2] = unit[row][0]
				}
			}
			c.Matrix = hex.EncodeToString(mat)
		}
		out = append(out, c)
	}
	return out
}

func hhVectors() []hhCase {
	r := rand.New(rand.NewPCG(5, 0x4a54))
	var out []hhCase
	add := func(key, data []byte) {
		h64, err := highwayhash.New64(key)
		must(err)
		h64.Write(data)
		h128, err := highwayhash.New128(key)
		must(err)
		h128.Write(data)
		h256, err := highwayhash.New(key)
		must(err)
		h256.Write(data)
		s256 := highwayhash.Sum(data, key)
		if !bytes.Equal(s256[:], h256.Sum(nil)) {
			panic("Sum and New differ")
		}
		out = append(out, hhCase{
			Key:  hex.EncodeToString(key),
			Data: base64.StdEncoding.EncodeToString(data),
			H64:  hex.EncodeToString(h64.Sum(nil)),
			H128: hex.EncodeToString(h128.Sum(nil)),
			H256: hex.EncodeToString(h256.Sum(nil)),
		})
	}
	// The reference suite's shape: key 0..31, data 0..n-1 for every n up to 64.
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	for n := 0; n <= 64; n++ {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i)
		}
		add(key, data)
	}
	// Random keys and longer random data, including sizes around packet and chunk boundaries.
	for _, n := range []int{0, 1, 3, 4, 5, 15, 16, 17, 19, 20, 28, 29, 31, 32, 33, 63, 95, 96,
		1000, 4096 + 7, 65536 + 13, 131072 + 21} {
		add(randBytes(r, 32), randBytes(r, n))
	}
	// MinIO's bitrot key (magic HighwayHash256 key) over zeros of one shard block.
	magic, _ := hex.DecodeString("4be734fa8e238acd263e83e6bb968552040f935da39f441497e09d1322de36a0")
	add(magic, make([]byte, 1<<16))
	return out
}

func write(dir, name string, v any) {
	b, err := json.MarshalIndent(v, "", " ")
	must(err)
	must(os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644))
}

func main() {
	dir := ".."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	write(dir, "rs_vectors.json", map[string]any{
		"generator": "tests/testdata/gen (github.com/klauspost/reedsolomon, default options)",
		"cases":     rsVectors(),
	})
	write(dir, "hh_vectors.json", map[string]any{
		"generator": "tests/testdata/gen (github.com/minio/highwayhash)",
		"cases":     hhVectors(),
	})
}
