// Package vectors loads the conformance vectors (docs/protocol.md) from the
// repository's testdata/vectors (a byte-for-byte copy of ../shared/vectors).
// It is for tests only: it finds the files from its own source location.
package vectors

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// Dir is the folder that holds the copied vectors.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "vectors")
}

// SharedDir is ../shared/vectors beside the repository, which may not exist.
func SharedDir() string {
	return filepath.Join(Dir(), "..", "..", "..", "shared", "vectors")
}

// Load decodes one vector file into v.
func Load(name string, v any) error {
	b, err := os.ReadFile(filepath.Join(Dir(), name))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// KeyPair is one key of keys.json. TEST KEYS: never use them outside tests.
type KeyPair struct {
	PrivateHex string `json:"private_hex"`
	PrivatePEM string `json:"private_pem"`
	PublicHex  string `json:"public_hex"`
	PublicPEM  string `json:"public_pem"`
}

// Keys is keys.json.
type Keys struct {
	Merchant      KeyPair `json:"merchant"`
	Bank          KeyPair `json:"bank"`
	BankNext      KeyPair `json:"bank_next"`
	BankKeyID     string  `json:"bank_key_id"`
	BankNextKeyID string  `json:"bank_next_key_id"`
	GMT0003       KeyPair `json:"gmt0003_example"`
}

// Pair returns the key pair that a vector names ("merchant", "bank", ...).
func (k Keys) Pair(name string) KeyPair {
	switch name {
	case "merchant":
		return k.Merchant
	case "bank":
		return k.Bank
	case "bank_next":
		return k.BankNext
	case "gmt0003_example":
		return k.GMT0003
	}
	return KeyPair{}
}

// LoadKeys reads keys.json.
func LoadKeys() (Keys, error) {
	var k Keys
	err := Load("keys.json", &k)
	return k, err
}

// SM3Case is one entry of sm3.json.
type SM3Case struct {
	InputHex string `json:"input_hex"`
	SumHex   string `json:"sum_hex"`
}

// SM4 is sm4.json.
type SM4 struct {
	Block struct {
		KeyHex        string `json:"key_hex"`
		PlaintextHex  string `json:"plaintext_hex"`
		CiphertextHex string `json:"ciphertext_hex"`
	} `json:"block"`
	GCMRFC8998 struct {
		KeyHex              string `json:"key_hex"`
		NonceHex            string `json:"nonce_hex"`
		AADHex              string `json:"aad_hex"`
		PlaintextHex        string `json:"plaintext_hex"`
		CiphertextAndTagHex string `json:"ciphertext_and_tag_hex"`
	} `json:"gcm_rfc8998"`
	GCM []struct {
		AAD          string `json:"aad"`
		KeyHex       string `json:"key_hex"`
		NonceHex     string `json:"nonce_hex"`
		PlaintextHex string `json:"plaintext_hex"`
		SealedB64    string `json:"sealed_b64"`
	} `json:"gcm"`
}

// SignCase is one entry of sm2_sign.json.
type SignCase struct {
	Key          string `json:"key"`
	Message      string `json:"message"`
	SignatureB64 string `json:"signature_b64"`
	Valid        bool   `json:"valid"`
	Note         string `json:"note"`
}

// EncryptCase is one entry of sm2_encrypt.json.
type EncryptCase struct {
	Key           string `json:"key"`
	CiphertextB64 string `json:"ciphertext_b64"`
	PlaintextHex  string `json:"plaintext_hex"`
	Order         string `json:"order"`
}

// CanonicalCase is one entry of canonical.json.
type CanonicalCase struct {
	Path      string            `json:"path"`
	Fields    map[string]string `json:"fields"`
	Canonical string            `json:"canonical"`
}

// Message is one entry of requests.json, responses.json or notifications.json.
type Message struct {
	Body         string `json:"body"`
	BizContent   string `json:"biz_content"`
	Code         string `json:"code"`
	Now          string `json:"now"`
	Path         string `json:"path"`
	PathOverride string `json:"path_override"`
	SignedPath   string `json:"signed_path"`
	RequestMsgID string `json:"request_msg_id"`
	NotifyType   string `json:"notify_type"`
	Valid        bool   `json:"valid"`
	Why          string `json:"why"`
	Note         string `json:"note"`
}

// H5Case is one entry of h5.json.
type H5Case struct {
	Now       string `json:"now"`
	Page      string `json:"page"`
	URL       string `json:"url"`
	ReturnURL string `json:"return_url"`
	Data      string `json:"data"`
	Result    string `json:"result"`
	Valid     bool   `json:"valid"`
	Why       string `json:"why"`
}

// Name is a readable subtest name for an entry.
func Name(i int, valid bool, why string) string {
	if valid {
		return filepath.Join("valid", itoa(i))
	}
	return filepath.Join("invalid", itoa(i)+"_"+why)
}

func itoa(i int) string {
	b := []byte{byte('0' + i/10), byte('0' + i%10)}
	return string(b)
}

// Shanghai is UTC+8, the protocol's time zone (no daylight saving since 1991).
var Shanghai = time.FixedZone("UTC+8", 8*3600)

// Time parses a vector's "now" (yyyy-MM-dd HH:mm:ss, UTC+8).
func Time(s string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02 15:04:05", s, Shanghai)
}

// Bill is bill.json: statement files of PROTOCOL.md section 12.
type Bill struct {
	Note         string        `json:"note"`
	SegmentBytes int           `json:"segment_bytes"`
	Valid        []BillValid   `json:"valid"`
	Invalid      []BillInvalid `json:"invalid"`
}

// BillValid is a statement file that opens with the merchant key.
// Descriptor holds the descriptor's fields as the vector file writes them
// (every value a string).
type BillValid struct {
	Name           string            `json:"name"`
	Descriptor     map[string]string `json:"descriptor"`
	FileB64        string            `json:"file_b64"`
	CSVSM3         string            `json:"csv_sm3"`
	CSVHead        string            `json:"csv_head"`
	PlaintextBytes int               `json:"plaintext_bytes"`
	Segments       int               `json:"segments"`
}

// BillInvalid is a change (Op) to the file of the first valid entry, with
// the changed file's own Size and SM3: flip XORs the byte at Offset with
// 0x01, truncate keeps Length bytes, append adds the bytes of Hex, swap
// exchanges segments A and B.
type BillInvalid struct {
	Op     string `json:"op"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	Hex    string `json:"hex"`
	A      int    `json:"a"`
	B      int    `json:"b"`
	Size   string `json:"size"`
	SM3    string `json:"sm3"`
	Why    string `json:"why"`
}

// LoadBill reads bill.json.
func LoadBill() (Bill, error) {
	var b Bill
	err := Load("bill.json", &b)
	return b, err
}
