package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/xinyun-open/ewallet-go/internal/wire"
)

// envelopeField reports whether name is a field of the request envelope
// (docs/protocol.md, section 3.1): only those are named in a message; a
// member of any other name is the sender's text and is not repeated.
func envelopeField(name string) bool {
	switch name {
	case "app_id", "merchant_id", "msg_id", "timestamp", "version", "sign_type",
		"encrypt_type", "encrypt_key", "encrypt_key_id", "biz_content", "sign":
		return true
	}
	return false
}

// parseEnvelope reads the request body: one flat JSON object whose values
// are all strings, each name once (wire.ParseFlat, the SDK's parser too).
func parseEnvelope(body []byte) (map[string]string, *apiError) {
	fields, err := wire.ParseFlat(body)
	var fe *wire.FlatError
	switch {
	case err == nil:
		return fields, nil
	case !errors.As(err, &fe) || !envelopeField(fe.Name):
		// A name the sender made up is not repeated in the answer.
		if errors.Is(err, wire.ErrDuplicate) {
			return nil, paramInvalid("body", "a member appears twice")
		}
		return nil, paramInvalid("body", "must be one JSON object whose values are all strings")
	case errors.Is(err, wire.ErrDuplicate):
		return nil, paramInvalid(fe.Name, "appears twice")
	default:
		return nil, paramInvalid(fe.Name, "must be a string")
	}
}

// decodeBiz decodes the plaintext biz_content into dst, a pointer to an
// argument struct whose fields are strings or int64 amounts, named by
// their json tags. Unknown members and members of the wrong JSON type are
// PARAM_INVALID, naming the member when it is a field of the API and
// with a fixed text when it is not (the name is then the sender's, and an
// answer never repeats it): a typo in a hand-built request is caught, not
// ignored.
func decodeBiz(plain []byte, dst any) *apiError {
	if len(bytes.TrimSpace(plain)) == 0 {
		plain = []byte("{}")
	}
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	// The whole object is read first (a name twice, bad syntax), as the
	// members' own faults come after those; the first of them is kept.
	var bad *apiError
	err := wire.Members(plain, func(name string, m wire.Value) error {
		if bad != nil {
			return nil
		}
		i := fieldIndex(t, name)
		if i < 0 {
			bad = paramInvalid("biz_content", "a member is not a field of this API")
			return nil
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			if !m.String {
				bad = paramInvalid(name, "must be a string")
				return nil
			}
			f.SetString(m.Text)
		case reflect.Int64:
			n, err := strconv.ParseInt(m.Text, 10, 64)
			if m.String || err != nil {
				bad = paramInvalid(name, "must be an integer number of fen")
				return nil
			}
			f.SetInt(n)
		}
		return nil
	})
	var fe *wire.FlatError
	switch {
	case err == nil:
		if bad != nil {
			return bad
		}
		return nil
	case errors.As(err, &fe) && fieldIndex(t, fe.Name) >= 0:
		// A field of the API, named: twice, or a value that is no scalar.
		if errors.Is(err, wire.ErrDuplicate) {
			return paramInvalid(fe.Name, "appears twice")
		}
		if v.Field(fieldIndex(t, fe.Name)).Kind() == reflect.Int64 {
			return paramInvalid(fe.Name, "must be an integer number of fen")
		}
		return paramInvalid(fe.Name, "must be a string")
	case errors.Is(err, wire.ErrDuplicate):
		return paramInvalid("biz_content", "a member appears twice")
	default:
		return paramInvalid("biz_content", "must be one JSON object")
	}
}

// fieldIndex finds the struct field whose json tag names key.
func fieldIndex(t reflect.Type, key string) int {
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == key {
			return i
		}
	}
	return -1
}

// marshalJSON encodes v without HTML escaping (the answers are not HTML,
// and 会员 & 礼包 should read as written). Values here are plain structs and
// maps of strings, which always encode.
func marshalJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte("{}")
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
