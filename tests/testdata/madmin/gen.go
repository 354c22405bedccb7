// Command gen writes vectors.json: known answers for src/iam/madmin_crypto.ts.
//
// Run from this folder: go run . > vectors.json (GOFLAGS=-mod=mod). Deterministic vectors are
// encrypted with the same pieces madmin-go's EncryptData uses (Argon2id or PBKDF2 key, sio-go
// stream) but with a seeded salt and nonce, and each is checked by madmin.DecryptData; the
// "random" ones come straight from madmin.EncryptData (so they change on every run) and are for
// decryption only.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"

	"github.com/minio/madmin-go/v3"
	"github.com/secure-io/sio-go"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/pbkdf2"
)

type vector struct {
	Name      string `json:"name"`
	Password  string `json:"password"`
	Plaintext string `json:"plaintextHex"`
	Algorithm int    `json:"algorithm"`
	Salt      string `json:"saltHex,omitempty"`
	Nonce     string `json:"nonceHex,omitempty"`
	Cipher    string `json:"ciphertextHex"`
	// Deterministic: encrypting plaintext with salt and nonce must give ciphertext exactly.
	Deterministic bool `json:"deterministic"`
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func encrypt(id byte, password string, salt, nonce, data []byte) []byte {
	var stream *sio.Stream
	var err error
	switch id {
	case 0x00:
		stream, err = sio.AES_256_GCM.Stream(argon2.IDKey([]byte(password), salt, 1, 64*1024, 4, 32))
	case 0x01:
		stream, err = sio.ChaCha20Poly1305.Stream(argon2.IDKey([]byte(password), salt, 1, 64*1024, 4, 32))
	case 0x02:
		stream, err = sio.AES_256_GCM.Stream(pbkdf2.Key([]byte(password), salt, 8192, 32, sha256.New))
	}
	must(err)
	var out bytes.Buffer
	out.Write(salt)
	out.WriteByte(id)
	out.Write(nonce)
	w := stream.EncryptWriter(&out, nonce, nil)
	_, err = w.Write(data)
	must(err)
	must(w.Close())
	return out.Bytes()
}

func main() {
	rng := rand.New(rand.NewSource(7))
	random := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	var out []vector
	sizes := []int{0, 1, 43, 16383, 16384, 16385, 40000}
	for _, id := range []byte{0x00, 0x01, 0x02} {
		for _, size := range sizes {
			if id != 0x00 && size > 16385 {
				continue
			}
			password := fmt.Sprintf("secret-%d-%d", id, size)
			salt, nonce, data := random(32), random(8), random(size)
			if size == 43 {
				data = []byte(`{"secretKey":"newuser-secret","status":"enabled"}`)[:43]
			}
			c := encrypt(id, password, salt, nonce, data)
			back, err := madmin.DecryptData(password, bytes.NewReader(c))
			must(err)
			if !bytes.Equal(back, data) {
				panic("madmin.DecryptData disagrees")
			}
			out = append(out, vector{
				Name: fmt.Sprintf("id %d, %d bytes", id, size), Password: password,
				Plaintext: hex.EncodeToString(data), Algorithm: int(id),
				Salt: hex.EncodeToString(salt), Nonce: hex.EncodeToString(nonce),
				Cipher: hex.EncodeToString(c), Deterministic: true,
			})
		}
	}
	for _, size := range []int{60, 20000} {
		data := random(size)
		c, err := madmin.EncryptData("mc-root-secret", data)
		must(err)
		out = append(out, vector{
			Name: fmt.Sprintf("madmin.EncryptData, %d bytes", size), Password: "mc-root-secret",
			Plaintext: hex.EncodeToString(data), Algorithm: int(c[32]), Cipher: hex.EncodeToString(c),
		})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	must(enc.Encode(out))
}
