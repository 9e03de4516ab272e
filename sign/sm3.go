package sign

import (
	"encoding/hex"

	"github.com/emmansun/gmsm/sm3"
)

// SM3 returns the 32-byte SM3 digest of data.
func SM3(data []byte) []byte {
	sum := sm3.Sum(data)
	return sum[:]
}

// SM3Hex returns the SM3 digest of data as 64 lowercase hex characters.
func SM3Hex(data []byte) string {
	sum := sm3.Sum(data)
	return hex.EncodeToString(sum[:])
}
