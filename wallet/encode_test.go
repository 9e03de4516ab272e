package wallet_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/core"
	"github.com/xinyun-open/ewallet-go/wallet"
)

type inner struct {
	Deep string `json:"deep"`
}

type embedded struct {
	Shared string `json:"shared"`
}

type marshalsItself struct{}

func (marshalsItself) MarshalJSON() ([]byte, error) { return []byte(`{"own":true}`), nil }

type everything struct {
	embedded
	S       string            `json:"s"`
	Empty   string            `json:"empty,omitempty"`
	N       int64             `json:"n"`
	Zero    int               `json:"zero,omitempty"`
	U       uint8             `json:"u"`
	B       bool              `json:"b"`
	F       float64           `json:"f"`
	Bytes   []byte            `json:"bytes"`
	Nil     []byte            `json:"nil"`
	List    []string          `json:"list"`
	Map     map[string]int    `json:"map"`
	Ptr     *inner            `json:"ptr"`
	NilPtr  *inner            `json:"nil_ptr,omitempty"`
	Inner   inner             `json:"inner"`
	Own     marshalsItself    `json:"own"`
	Time    time.Duration     `json:"time"`
	Iface   any               `json:"iface"`
	NoTag   string            //
	Skipped string            `json:"-"`
	private string            //nolint:unused // must not appear
	Escaped string            `json:"escaped"`
	Nested  map[string]inner  `json:"nested"`
	Strs    map[string]string `json:"strs,omitempty"`
}

// MarshalWire writes what encoding/json writes for values without personal
// data types (HTML escaping aside, which it does not do).
func TestMarshalWireMatchesEncodingJSON(t *testing.T) {
	v := everything{
		embedded: embedded{Shared: "x"}, S: "plain 中文", N: -42, U: 7, B: true, F: 1.5,
		Bytes: []byte{0, 1, 2, 250}, List: []string{"a", "b"}, Map: map[string]int{"z": 1, "a": 2},
		Ptr: &inner{Deep: "d"}, Inner: inner{Deep: "i"}, Time: time.Second, Iface: map[string]any{"k": []any{1.0, "v"}},
		NoTag: "t", Skipped: "no", private: "no", Escaped: "quote\" back\\ nl\n tab\t nul\x00",
		Nested: map[string]inner{"k": {Deep: "n"}},
	}
	got, err := core.Bridge.MarshalWire(v)
	require.NoError(t, err)
	want, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got))
	require.NotContains(t, string(got), "Skipped")
	require.NotContains(t, string(got), "private")
}

func TestMarshalWireWritesPersonalDataInClearAndJSONRefusesIt(t *testing.T) {
	v := struct {
		ID     wallet.IDNumber     `json:"id_number"`
		Card   wallet.CardNumber   `json:"card_no"`
		Mobile wallet.Mobile       `json:"mobile"`
		Name   wallet.Name         `json:"name"`
		Code   wallet.Secret       `json:"sms_code"`
		PIN    wallet.EncryptedPIN `json:"password"`
		NoPIN  wallet.EncryptedPIN `json:"new_password,omitempty"`
		Face   wallet.FaceImage    `json:"face_image"`
	}{"110101199003074514", "6222021234567890128", "13800138000", "张三", "654321",
		wallet.EncryptedPIN{KeyID: "k", Ciphertext: "CIPHERTEXT=="}, wallet.EncryptedPIN{}, wallet.FaceImage("abc")}
	wire, err := core.Bridge.MarshalWire(v)
	require.NoError(t, err)
	require.JSONEq(t, `{"id_number":"110101199003074514","card_no":"6222021234567890128","mobile":"13800138000",
		"name":"张三","sms_code":"654321","password":"CIPHERTEXT==","face_image":"YWJj"}`, string(wire))

	// encoding/json refuses personal data loudly: neither in clear (a log
	// or a cache nobody meant) nor masked (data that silently vanishes).
	_, err = json.Marshal(v)
	require.ErrorIs(t, err, wallet.ErrPersonalData)

	// In maps too (a hand-built request for Do).
	wire, err = core.Bridge.MarshalWire(map[string]any{"id_number": wallet.IDNumber("110101199003074514")})
	require.NoError(t, err)
	require.Equal(t, `{"id_number":"110101199003074514"}`, string(wire))
}

func TestMarshalWireRefusesWhatItCannotCarry(t *testing.T) {
	_, err := core.Bridge.MarshalWire(map[string]string{"name": "bad \xff utf-8"})
	require.Error(t, err, "encoding/json would replace the byte and the bank would see another value")
	_, err = core.Bridge.MarshalWire(map[int]string{1: "x"})
	require.Error(t, err)
	_, err = core.Bridge.MarshalWire(struct {
		C chan int `json:"c"`
	}{})
	require.Error(t, err)
}
