package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestIDNumber(t *testing.T) {
	for _, ok := range []string{"110101199003074514", "11010519491231002X", "44052419500101001X"} {
		require.NoError(t, IDNumber(ok), ok)
	}
	future := "110101" + time.Now().AddDate(1, 0, 0).Format("20060102") + "001"
	future += string(IDCheckChar(future))
	require.EqualError(t, IDNumber(future), "birth date is in the future")
	for in, reason := range map[string]string{
		"":                    "must be 18 characters",
		"11010119900307451":   "must be 18 characters",
		"1101011990030745140": "must be 18 characters",
		"11010119900307451x":  "last character must be a digit or X",
		"1101011990030745A4":  "first 17 characters must be digits",
		"110101199003074515":  "check digit does not match",
		"110101199002304519":  "birth date is not valid", // 30 February
		"110101180001014514":  "birth date is not valid",
		"010101199003074514":  "region code is not valid",
	} {
		err := IDNumber(in)
		require.Error(t, err, in)
		require.Equal(t, reason, err.Error(), in)
	}
}

func TestAge(t *testing.T) {
	id := "110101201011250016"
	id = id[:17] + string(IDCheckChar(id[:17]))
	day := func(s string) time.Time {
		d, _ := time.ParseInLocation("2006-01-02 15:04:05", s, shanghai)
		return d
	}
	a, err := Age(id, day("2026-11-24 23:59:59"))
	require.NoError(t, err)
	require.Equal(t, 15, a)
	a, err = Age(id, day("2026-11-25 00:00:00"))
	require.NoError(t, err)
	require.Equal(t, 16, a, "the 16th birthday counts from midnight UTC+8")
	// the same instant in UTC is already the birthday in UTC+8
	a, err = Age(id, time.Date(2026, 11, 24, 16, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Equal(t, 16, a)
	_, err = Age(id, day("2009-01-01 00:00:00"))
	require.Error(t, err)
}

func TestCardNumber(t *testing.T) {
	for _, ok := range []string{"6222021234567890128", "6228480402564890018", "4111111111111111"} {
		require.NoError(t, CardNumber(ok), ok)
	}
	require.EqualError(t, CardNumber("6222021234567890127"), "check digit does not match (Luhn)")
	require.EqualError(t, CardNumber("411111111111111"), "must be 16 to 19 digits")
	require.EqualError(t, CardNumber("62220202001123456789"), "must be 16 to 19 digits")
	require.EqualError(t, CardNumber("6222 0202 0011 2345"), "must be digits only")
	p := "622848040256489001"
	require.NoError(t, CardNumber(p+string(LuhnDigit(p))))
}

func TestMobile(t *testing.T) {
	require.NoError(t, Mobile("13800138000"))
	require.NoError(t, Mobile("19912345678"))
	for _, bad := range []string{"", "12800138000", "23800138000", "1380013800", "138001380001", "1380013800a", "+8613800138000"} {
		require.Error(t, Mobile(bad), bad)
	}
}

func TestOrderNoUserIDMsgIDNonceAccount(t *testing.T) {
	require.NoError(t, OrderNo("T20261125001"))
	require.NoError(t, OrderNo("a_b-C9"))
	require.EqualError(t, OrderNo("T1"), "must be 6 to 32 characters")
	require.EqualError(t, OrderNo(strings.Repeat("a", 33)), "must be 6 to 32 characters")
	require.EqualError(t, OrderNo("T 20261125"), "may hold only letters, digits, '_' and '-'")
	require.EqualError(t, OrderNo("订单20261125"), "may hold only letters, digits, '_' and '-'")

	require.NoError(t, UserID("u-1001"))
	require.NoError(t, UserID("a.b@c_d"))
	require.Error(t, UserID(""))
	require.Error(t, UserID("u 1"))
	require.Error(t, UserID(strings.Repeat("u", 65)))

	require.NoError(t, MsgID("0123456789abcdef0123456789abcdef"))
	require.Error(t, MsgID("0123456789ABCDEF0123456789ABCDEF"))
	require.Error(t, MsgID("0123"))

	require.NoError(t, Nonce("7995c5dc9cbcbe5e"))
	require.Error(t, Nonce("short"))
	require.Error(t, Nonce("7995c5dc9cbcbe5e-"))

	require.NoError(t, AccountNo("6236880000000001"))
	require.Error(t, AccountNo("623688000000001"))
	require.Error(t, AccountNo("623688000000000a"))
}

func TestAmount(t *testing.T) {
	require.NoError(t, Amount(1))
	require.NoError(t, Amount(MaxAmount))
	require.EqualError(t, Amount(0), "must be at least 1 fen")
	require.EqualError(t, Amount(-5), "must be at least 1 fen")
	require.Error(t, Amount(MaxAmount+1))
}

func TestNameAndText(t *testing.T) {
	require.NoError(t, Name("张三"))
	require.NoError(t, Name("阿卜杜热合曼·买买提"))
	require.EqualError(t, Name(""), "is required")
	require.EqualError(t, Name("  "), "is required")
	require.EqualError(t, Name("张\n三"), "holds a control character")
	require.EqualError(t, Name(strings.Repeat("张", 65)), "is longer than 64 characters")
	require.EqualError(t, Text("\xff", 10), "is not valid UTF-8")
	require.NoError(t, Text("", 10))
}

func TestWeakPIN(t *testing.T) {
	for _, weak := range []string{"000000", "111111", "999999", "123456", "012345", "456789", "654321", "987654", "543210"} {
		require.True(t, WeakPIN(weak), weak)
	}
	for _, fine := range []string{"135790", "112233", "123457", "024680", "890123", "121212"} {
		require.False(t, WeakPIN(fine), fine)
	}
}

func TestCallbackURL(t *testing.T) {
	for _, ok := range []string{"https://merchant.example/back?from=wallet", "http://127.0.0.1:9000/done", "http://localhost/x", "http://[::1]:8080/"} {
		require.NoError(t, CallbackURL(ok), ok)
	}
	for _, bad := range []string{"", "/relative", "http://merchant.example/back", "ftp://x/y", "https://user:pw@merchant.example/", "javascript:alert(1)", "https:opaque", "https://" + strings.Repeat("a", 520)} {
		require.Error(t, CallbackURL(bad), bad)
	}
}

func TestImageFormat(t *testing.T) {
	f, err := ImageFormat([]byte{0xFF, 0xD8, 0xFF, 0xE0})
	require.NoError(t, err)
	require.Equal(t, "jpeg", f)
	f, err = ImageFormat([]byte("\x89PNG\r\n\x1a\n...."))
	require.NoError(t, err)
	require.Equal(t, "png", f)
	_, err = ImageFormat([]byte("GIF89a"))
	require.EqualError(t, err, "must be a JPEG or PNG image")
	_, err = ImageFormat(nil)
	require.EqualError(t, err, "is required")
	_, err = ImageFormat(append([]byte{0xFF, 0xD8, 0xFF}, make([]byte, MaxImageBytes)...))
	require.EqualError(t, err, "is larger than 1 MiB")
}

func TestTokenAndSMSCode(t *testing.T) {
	require.NoError(t, Token("VT0123456789abcdef"))
	require.Error(t, Token(""))
	require.Error(t, Token("has space"))
	require.Error(t, Token(strings.Repeat("a", 65)))
	require.NoError(t, SMSCode("123456"))
	require.Error(t, SMSCode("12345"))
	require.Error(t, SMSCode("12345a"))
}
