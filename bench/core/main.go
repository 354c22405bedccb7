// Command core_bench measures klauspost/reedsolomon and minio/highwayhash, single-threaded, for
// bench/core/run.ts, which runs it beside Shale's WebAssembly core and prints the ratios.
// Output: one JSON object per line {"op","config","block","native","GBps"} where GBps is the median
// of -runs runs of block bytes processed per second (encode: data bytes; reconstruct: block bytes;
// hash: input bytes), per second of process CPU time by default (-clock wall for wall time).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"syscall"
	"time"

	"github.com/klauspost/cpuid/v2"
	"github.com/klauspost/reedsolomon"
	"github.com/minio/highwayhash"
)

type result struct {
	Op     string  `json:"op"`
	Config string  `json:"config"`
	Block  int     `json:"block"`
	Native string  `json:"native"`
	GBps   float64 `json:"GBps"`
}

var (
	runs  = flag.Int("runs", 5, "timed runs per case (the median is reported)")
	runMs = flag.Int("ms", 200, "minimum milliseconds per run")
	op    = flag.String("op", "", "only this op: encode, reconstruct or highwayhash256")
	kFlag = flag.Int("k", 0, "only this many data shards")
	mFlag = flag.Int("m", -1, "only this many parity shards")
	block = flag.Int("block", 0, "only this block size in bytes")
	clock = flag.String("clock", "cpu", "cpu: rate over process CPU time (robust to other load); wall")
	serve = flag.Bool("serve", false, "read cases from stdin, one timed run per line (see serveCases)")
)

// now returns the clock -clock names, in seconds.
func now() float64 {
	if *clock == "wall" {
		return float64(time.Now().UnixNano()) / 1e9
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func want(o string, k, m, b int) bool {
	return (*op == "" || *op == o) && (*kFlag == 0 || *kFlag == k) && (*mFlag < 0 || *mFlag == m) &&
		(*block == 0 || *block == b)
}

// oneRun runs fn for at least -ms and returns GB/s over -clock.
func oneRun(bytes int, fn func()) float64 {
	n := 0
	wall := time.Now()
	start := now()
	for {
		fn()
		n++
		if time.Since(wall) >= time.Duration(*runMs)*time.Millisecond {
			break
		}
	}
	return float64(bytes) * float64(n) / (now() - start) / 1e9
}

// serveCases reads lines "op k m block native" (op: encode, reconstruct, hh-oneshot, hh-stream;
// native: fastest or avx2) and answers each with the GB/s of one timed run, so that the caller
// can interleave these runs with its own and both see the same machine load.
func serveCases() {
	type prepared struct {
		bytes int
		fn    func()
	}
	cases := map[string]prepared{}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		line := in.Text()
		var o, nv string
		var k, m, b int
		if _, err := fmt.Sscan(line, &o, &k, &m, &b, &nv); err != nil {
			fmt.Println("error", err)
			continue
		}
		c, ok := cases[line]
		if !ok {
			c = prepared{b, prepare(o, k, m, b, nv)}
			for i := 0; i < 3; i++ {
				c.fn()
			}
			cases[line] = c
		}
		fmt.Println(oneRun(c.bytes, c.fn))
	}
}

func options(native string) []reedsolomon.Option {
	if native == "avx2" {
		return []reedsolomon.Option{reedsolomon.WithMaxGoroutines(1), reedsolomon.WithAVX512(false),
			reedsolomon.WithGFNI(false), reedsolomon.WithAVX2(true)}
	}
	return []reedsolomon.Option{reedsolomon.WithMaxGoroutines(1)}
}

func prepare(o string, k, m, b int, native string) func() {
	switch o {
	case "encode", "reconstruct":
		shards := randomShards(k, m, b)
		enc, err := reedsolomon.New(k, m, options(native)...)
		if err != nil {
			panic(err)
		}
		if err := enc.Encode(shards); err != nil {
			panic(err)
		}
		if o == "encode" {
			return func() {
				if err := enc.Encode(shards); err != nil {
					panic(err)
				}
			}
		}
		return func() {
			shards[0] = shards[0][:0]
			shards[1] = shards[1][:0]
			if err := enc.ReconstructData(shards); err != nil {
				panic(err)
			}
		}
	case "hh-oneshot", "hh-stream":
		key := make([]byte, 32)
		data := make([]byte, b)
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		var sink [32]byte
		if o == "hh-oneshot" {
			return func() { sink = highwayhash.Sum(data, key); _ = sink }
		}
		return func() {
			h, _ := highwayhash.New(key)
			for off := 0; off < len(data); off += 64 << 10 {
				h.Write(data[off:min(len(data), off+64<<10)])
			}
			copy(sink[:], h.Sum(nil))
		}
	}
	panic("unknown op " + o)
}

// measure runs fn repeatedly for at least -ms per run and returns the median GB/s over -runs.
func measure(bytes int, fn func()) float64 {
	for i := 0; i < 3; i++ {
		fn()
	}
	rates := make([]float64, 0, *runs)
	for r := 0; r < *runs; r++ {
		n := 0
		wall := time.Now()
		start := now()
		for {
			fn()
			n++
			if time.Since(wall) >= time.Duration(*runMs)*time.Millisecond {
				break
			}
		}
		rates = append(rates, float64(bytes)*float64(n)/(now()-start)/1e9)
	}
	sort.Float64s(rates)
	return rates[len(rates)/2]
}

func emit(r result) {
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

func randomShards(k, m, block int) [][]byte {
	size := (block + k - 1) / k
	shards := make([][]byte, k+m)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range shards {
		shards[i] = make([]byte, size)
		if i < k {
			for j := range shards[i] {
				shards[i][j] = byte(rng.Uint32())
			}
		}
	}
	return shards
}

func main() {
	flag.Parse()
	runtime.GOMAXPROCS(1)
	if *serve {
		serveCases()
		return
	}
	fmt.Fprintf(os.Stderr, "cpu: %s avx2=%v avx512=%v gfni=%v\n", cpuid.CPU.BrandName,
		cpuid.CPU.Supports(cpuid.AVX2), cpuid.CPU.Supports(cpuid.AVX512F), cpuid.CPU.Supports(cpuid.GFNI))
	natives := []struct {
		name string
		opts []reedsolomon.Option
	}{
		{"fastest", []reedsolomon.Option{reedsolomon.WithMaxGoroutines(1)}},
		{"avx2", []reedsolomon.Option{reedsolomon.WithMaxGoroutines(1), reedsolomon.WithAVX512(false),
			reedsolomon.WithGFNI(false), reedsolomon.WithAVX2(true)}},
	}
	geoms := [][2]int{{4, 2}, {8, 4}, {12, 4}}
	blocks := []int{1 << 20, 10 << 20}
	for _, g := range geoms {
		for _, b := range blocks {
			if !want("encode", g[0], g[1], b) {
				continue
			}
			shards := randomShards(g[0], g[1], b)
			for _, nv := range natives {
				enc, err := reedsolomon.New(g[0], g[1], nv.opts...)
				if err != nil {
					panic(err)
				}
				gbps := measure(b, func() {
					if err := enc.Encode(shards); err != nil {
						panic(err)
					}
				})
				emit(result{"encode", fmt.Sprintf("%d+%d", g[0], g[1]), b, nv.name, gbps})
			}
		}
	}
	for _, g := range geoms[1:] {
		for _, b := range blocks {
			if !want("reconstruct", g[0], g[1], b) {
				continue
			}
			shards := randomShards(g[0], g[1], b)
			for _, nv := range natives {
				enc, err := reedsolomon.New(g[0], g[1], nv.opts...)
				if err != nil {
					panic(err)
				}
				if err := enc.Encode(shards); err != nil {
					panic(err)
				}
				gbps := measure(b, func() {
					// Two missing data shards; zero length with capacity makes klauspost reuse them.
					shards[0] = shards[0][:0]
					shards[1] = shards[1][:0]
					if err := enc.ReconstructData(shards); err != nil {
						panic(err)
					}
				})
				emit(result{"reconstruct", fmt.Sprintf("%d+%d", g[0], g[1]), b, nv.name, gbps})
			}
		}
	}
	if want("highwayhash256", 0, -1, 1<<20) {
		key := make([]byte, 32)
		data := make([]byte, 1<<20)
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		var sink [32]byte
		gbps := measure(len(data), func() { sink = highwayhash.Sum(data, key) })
		emit(result{"highwayhash256", "one-shot", len(data), "fastest", gbps})
		gbps = measure(len(data), func() {
			h, _ := highwayhash.New(key)
			for off := 0; off < len(data); off += 64 << 10 {
				h.Write(data[off : off+64<<10])
			}
			copy(sink[:], h.Sum(nil))
		})
		emit(result{"highwayhash256", "stream 64KiB", len(data), "fastest", gbps})
		_ = sink
	}
}
