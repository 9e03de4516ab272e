package vectors

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyMatchesShared keeps testdata/vectors a byte-for-byte copy of
// ../shared/vectors, so that a newer set published there is noticed.
func TestCopyMatchesShared(t *testing.T) {
	shared := SharedDir()
	want, err := os.ReadDir(shared)
	if os.IsNotExist(err) {
		t.Skipf("%s does not exist here; the copy in testdata/vectors is used as is", shared)
	}
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadDir(Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("testdata/vectors has %d files, ../shared/vectors has %d", len(got), len(want))
	}
	for _, e := range want {
		a, err := os.ReadFile(filepath.Join(shared, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(Dir(), e.Name()))
		if err != nil {
			t.Errorf("%s: missing from testdata/vectors: copy ../shared/vectors again", e.Name())
			continue
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from ../shared/vectors: copy it again (cp ../shared/vectors/* testdata/vectors/)", e.Name())
		}
	}
}

func TestEveryFileLoads(t *testing.T) {
	var (
		keys  Keys
		sm3   []SM3Case
		sm4   SM4
		sig   []SignCase
		enc   []EncryptCase
		canon []CanonicalCase
		msgs  []Message
		h5    []H5Case
		bill  Bill
	)
	for name, v := range map[string]any{
		"keys.json": &keys, "sm3.json": &sm3, "sm4.json": &sm4, "sm2_sign.json": &sig,
		"sm2_encrypt.json": &enc, "canonical.json": &canon, "requests.json": &msgs,
		"h5.json": &h5, "bill.json": &bill,
	} {
		if err := Load(name, v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if keys.BankKeyID == "" || keys.Merchant.PrivatePEM == "" {
		t.Error("keys.json: missing fields")
	}
	if len(bill.Valid) == 0 || len(bill.Invalid) == 0 || bill.Valid[0].Descriptor["file_id"] == "" {
		t.Error("bill.json: missing entries")
	}
}

// TestNothingPointsAtShared keeps the repository standing alone: a
// merchant's clone has neither ../shared nor its PROTOCOL.md, so nothing
// outside testdata/ may name them — but this package, whose one test
// compares the copy with ../shared/vectors when that folder exists. The
// protocol in the project's words is docs/protocol.md.
func TestNothingPointsAtShared(t *testing.T) {
	root := filepath.Join(Dir(), "..", "..")
	self := filepath.Join(root, "internal", "vectors")
	var found []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch {
			case d.Name() == ".git", d.Name() == "testdata", d.Name() == "node_modules", path == self:
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "../shared") || strings.Contains(line, "PROTOCOL.md") {
				rel, _ := filepath.Rel(root, path)
				found = append(found, fmt.Sprintf("%s:%d", rel, i+1))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("these point at ../shared or PROTOCOL.md, which a merchant's clone lacks; cite docs/protocol.md instead:\n%s", strings.Join(found, "\n"))
	}
}
