package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"

	"github.com/xinyun-open/ewallet-go/internal/wire"
)

// member is one name/value pair of a JSON object, in document order.
type member struct {
	key string
	raw json.RawMessage
}

var (
	errNotObject = errors.New("not a JSON object")
	errDuplicate = errors.New("duplicate member")
)

// readObject reads exactly one JSON object. It refuses duplicate names
// (encoding/json would silently keep the last, so what was signed and what
// is used could differ) and anything after the closing brace.
func readObject(data []byte) ([]member, *member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, nil, errNotObject
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, errNotObject
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, errNotObject
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, errNotObject
		}
		m := member{key, raw}
		if seen[key] {
			return nil, &m, errDuplicate
		}
		seen[key] = true
		out = append(out, m)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, nil, errNotObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errNotObject
	}
	return out, nil, nil
}

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
	members, dup, err := readObject(plain)
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	if errors.Is(err, errDuplicate) {
		if fieldIndex(t, dup.key) >= 0 {
			return paramInvalid(dup.key, "appears twice")
		}
		return paramInvalid("biz_content", "a member appears twice")
	}
	if err != nil {
		return paramInvalid("biz_content", "must be one JSON object")
	}
	for _, m := range members {
		i := fieldIndex(t, m.key)
		if i < 0 {
			return paramInvalid("biz_content", "a member is not a field of this API")
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			var s string
			if m.raw[0] != '"' || json.Unmarshal(m.raw, &s) != nil {
				return paramInvalid(m.key, "must be a string")
			}
			f.SetString(s)
		case reflect.Int64:
			var n int64
			if !isJSONNumber(m.raw) || json.Unmarshal(m.raw, &n) != nil {
				return paramInvalid(m.key, "must be an integer number of fen")
			}
			f.SetInt(n)
		}
	}
	return nil
}

func isJSONNumber(raw json.RawMessage) bool {
	return len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'))
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
