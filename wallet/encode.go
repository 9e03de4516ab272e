package wallet

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// marshalWire encodes a request or payload for biz_content. It writes what
// encoding/json would for the flat structs, maps and slices requests are
// made of (json tags, omitempty, embedded structs inlined), except that the
// personal data types — IDNumber, CardNumber, Mobile, Name, Secret,
// EncryptedPIN, FaceImage — are written in the protocol's clear form.
// encoding/json refuses them (see ErrPersonalData); only this encoder,
// whose output is encrypted at once, writes them. Do uses it; so does the
// test kit, for payloads of a test bank.
//
// Values of other types that implement json.Marshaler keep their own
// encoding. Strings must be valid UTF-8 (encoding/json would silently
// replace bad bytes, and the bank would see another value than the one
// signed).
func marshalWire(v any) ([]byte, error) {
	b, _, err := encodeWire(v)
	return b, err
}

// encodeWire is marshalWire that also lists the bank key ids of the
// EncryptedPINs it wrote, in order.
func encodeWire(v any) ([]byte, []string, error) {
	rv := reflect.ValueOf(v)
	var e wireEncoder
	b, err := e.append(make([]byte, 0, wireSizeHint(rv)), rv)
	return b, e.pinKeys, err
}

// wireEncoder remembers what the request carries besides its bytes.
type wireEncoder struct {
	pinKeys []string
}

// wireSizeHint sizes the buffer for a struct whose byte slices (a face
// image) dominate, so that a megabyte is base64-encoded once into its final
// place instead of into a buffer that grows by doubling.
func wireSizeHint(rv reflect.Value) int {
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	n := 512
	if rv.Kind() != reflect.Struct {
		return n
	}
	for i := 0; i < rv.NumField(); i++ {
		if f := rv.Field(i); f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Uint8 {
			n += base64.StdEncoding.EncodedLen(f.Len()) + 32
		}
	}
	return n
}

func (e *wireEncoder) append(dst []byte, rv reflect.Value) ([]byte, error) {
	if !rv.IsValid() {
		return append(dst, "null"...), nil
	}
	switch rv.Type() {
	case reflect.TypeFor[IDNumber](), reflect.TypeFor[CardNumber](), reflect.TypeFor[Mobile](),
		reflect.TypeFor[Name](), reflect.TypeFor[Secret]():
		return appendWireString(dst, rv.String())
	case reflect.TypeFor[EncryptedPIN]():
		p := rv.Interface().(EncryptedPIN)
		if p.Ciphertext != "" {
			e.pinKeys = append(e.pinKeys, p.KeyID)
		}
		return appendWireString(dst, p.Ciphertext)
	case reflect.TypeFor[FaceImage]():
		return appendBase64(dst, rv.Bytes()), nil
	}
	if rv.Kind() != reflect.Pointer && rv.Kind() != reflect.Interface && rv.Type().Implements(reflect.TypeFor[json.Marshaler]()) {
		b, err := json.Marshal(rv.Interface())
		return append(dst, b...), err
	}
	switch rv.Kind() {
	case reflect.String:
		return appendWireString(dst, rv.String())
	case reflect.Bool:
		return strconv.AppendBool(dst, rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(dst, rv.Uint(), 10), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return append(dst, "null"...), nil
		}
		return e.append(dst, rv.Elem())
	case reflect.Slice:
		if rv.IsNil() {
			return append(dst, "null"...), nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return appendBase64(dst, rv.Bytes()), nil
		}
		fallthrough
	case reflect.Array:
		dst = append(dst, '[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = e.append(dst, rv.Index(i)); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case reflect.Map:
		return e.appendMap(dst, rv)
	case reflect.Struct:
		dst = append(dst, '{')
		dst, _, err := e.appendFields(dst, rv, false)
		return append(dst, '}'), err
	}
	// Floats, complex numbers, channels, funcs: what encoding/json does.
	b, err := json.Marshal(rv.Interface())
	return append(dst, b...), err
}

func (e *wireEncoder) appendMap(dst []byte, rv reflect.Value) ([]byte, error) {
	if rv.IsNil() {
		return append(dst, "null"...), nil
	}
	if rv.Type().Key().Kind() != reflect.String {
		return dst, fmt.Errorf("wallet: map keys must be strings, not %s", rv.Type().Key())
	}
	keys := rv.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendWireString(dst, k.String()); err != nil {
			return dst, err
		}
		dst = append(dst, ':')
		if dst, err = e.append(dst, rv.MapIndex(k)); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// appendWireFields writes the fields of struct rv, embedded structs
// inlined; more says whether a field was written before.
func (e *wireEncoder) appendFields(dst []byte, rv reflect.Value, more bool) ([]byte, bool, error) {
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := rv.Field(i)
		if f.Anonymous && name == "" {
			for fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					break
				}
				fv = fv.Elem()
			}
			if fv.Kind() == reflect.Struct {
				var err error
				if dst, more, err = e.appendFields(dst, fv, more); err != nil {
					return dst, more, err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(","+opts+",", ",omitempty,") && isEmptyValue(fv) {
			continue
		}
		if more {
			dst = append(dst, ',')
		}
		more = true
		var err error
		if dst, err = appendWireString(dst, name); err != nil {
			return dst, more, err
		}
		dst = append(dst, ':')
		if dst, err = e.append(dst, fv); err != nil {
			return dst, more, fmt.Errorf("%w (field %s)", err, name)
		}
	}
	return dst, more, nil
}

// isEmptyValue is encoding/json's omitempty test.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	if v.Type() == reflect.TypeFor[EncryptedPIN]() {
		return v.Interface().(EncryptedPIN).IsZero()
	}
	return false
}

var errNotUTF8 = errors.New("wallet: a string is not valid UTF-8")

func appendWireString(dst []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return dst, errNotUTF8
	}
	dst = append(dst, '"')
	dst = appendJSONString(dst, s)
	return append(dst, '"'), nil
}

func appendBase64(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}
